using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Users;

/// <summary>
/// Idempotency-Key for POST creates: the same key and body within 24 hours answer with the first response
/// again (no second user); the same key with another body is a 422. Keys are scoped to the caller and route.
/// </summary>
internal sealed class Idempotency(ScaiKeyDbContext db, TimeProvider time)
{
    public const string HeaderName = "Idempotency-Key";
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);

    public sealed record Request(string PrincipalId, string Scope, string Key, string BodyHash);

    /// <summary>Reads and checks the header; null when absent.</summary>
    public static Request? FromHeader(HttpContext http, string principalId, string scope, byte[] body, ValidationErrors errors)
    {
        if (!http.Request.Headers.TryGetValue(HeaderName, out var values))
        {
            return null;
        }

        var key = values.ToString();
        if (key.Length is 0 or > 255 || key.Any(c => c is < ' ' or > '~'))
        {
            errors.Add(["header", "idempotency-key"], "Value error, Idempotency-Key must be 1 to 255 visible ASCII characters", "value_error");
            return null;
        }

        return new Request(principalId, scope, key, Convert.ToHexStringLower(SHA256.HashData(body)));
    }

    /// <summary>
    /// The stored first answer to give again, an invalid-input failure for a key reused with another body, or null to go
    /// ahead. Deciding to replay is the create's business (it asks again after losing a race to the same key); writing
    /// the stored answer back is the edge's (<see cref="UserResults"/>).
    /// </summary>
    public async Task<Result<IdempotentReplay>?> ReplayAsync(Request request, CancellationToken ct)
    {
        var since = time.UtcNow() - Window;
        var record = await db.IdempotencyRecords.AsNoTracking()
            .Where(r => r.PrincipalId == request.PrincipalId && r.Scope == request.Scope && r.Key == request.Key)
            .FirstOrDefaultAsync(ct);
        if (record is null)
        {
            return null;
        }

        if (record.CreatedAt < since)
        {
            await db.IdempotencyRecords.Where(r => r.Id == record.Id).ExecuteDeleteAsync(ct);
            return null;
        }

        if (record.RequestHash != request.BodyHash)
        {
            var errors = new ValidationErrors();
            errors.Add(["header", "idempotency-key"], "Value error, this Idempotency-Key was already used with a different request body", "value_error");
            return Failure.Invalid(errors);
        }

        return new IdempotentReplay(record.StatusCode, record.ResponseBody, record.ResponseEtag, record.ResponseLocation);
    }

    public void Remember(Request request, int status, string body, string? etag, string? location) =>
        db.IdempotencyRecords.Add(new IdempotencyRecord
        {
            Id = Ids.New(),
            PrincipalId = request.PrincipalId,
            Scope = request.Scope,
            Key = request.Key,
            RequestHash = request.BodyHash,
            StatusCode = status,
            ResponseBody = body,
            ResponseEtag = etag,
            ResponseLocation = location,
            CreatedAt = time.UtcNow(),
        });
}

/// <summary>The first answer to a request with this Idempotency-Key, as stored: status, JSON body, ETag and Location.</summary>
internal sealed record IdempotentReplay(int Status, string Body, string? ETag, string? Location);
