using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Mfa;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Data.Sqlite;

namespace ScaiKey.Bench;

/// <summary>
/// Seeds T3 (password + TOTP sign-in): COUNT users created through the API (each with the bench password), then a
/// confirmed TOTP factor for each, written straight into the bench's SQLite database, sealed with the service's
/// key-encryption key exactly as SecondFactors does. Every factor has the same secret, so the load generator needs
/// one code per 30-second step (written to t3-codes.txt) and not one per user; the server still opens, checks and
/// claims each user's own factor row, so its work per sign-in is what a real authenticator would cost. A code is
/// accepted once per step per user (replay protection), so the bench needs about rate × 30 users.
/// Usage: t3-seed BASE ADMIN_TOKEN TENANT_ID COUNT PASSWORD DATABASE_FILE KEK_BASE64 OUT_DIR
/// </summary>
internal static class T3Seed
{
    // Codes for four hours of steps: longer than any bench run.
    private const int Steps = 4 * 60 * 2;

    public static async Task RunAsync(string[] args)
    {
        var (baseUrl, token, tenantId, count, password, database, kek, outDir) =
            (args[0], args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), args[4], args[5], args[6], args[7]);
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var emails = Enumerable.Range(1, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"t3.user{i}@bench-scaikey.example")).ToList();

        // Through the API, as run.sh seeds T2's users: each create hashes the password on the server.
        await Parallel.ForEachAsync(emails, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (email, ct) =>
        {
            using var response = await http.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/users", new { email, password }, ct);
            if ((int)response.StatusCode != 201)
            {
                throw new InvalidOperationException($"creating {email}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            }
        });

        var secret = TotpCodes.NewSecret();
        var keyRing = new KeyRing(Convert.FromBase64String(kek));
        var options = (DbContextOptions<ScaiKeyDbContext>)SqliteDatabase
            .Configure(new DbContextOptionsBuilder<ScaiKeyDbContext>(), $"Data Source={database}").Options;
        await using (var db = new ScaiKeyDbContext(options))
        {
            var now = DateTime.UtcNow;
            var userIds = await db.Users.AsNoTracking().Where(u => u.TenantId == tenantId && u.DeletedAt == null).Select(u => u.Id).ToListAsync();
            foreach (var batch in userIds.Chunk(1000))
            {
                foreach (var userId in batch)
                {
                    var id = Ids.New();
                    db.MfaFactors.Add(new MfaFactor
                    {
                        Id = id, TenantId = tenantId, UserId = userId, Type = MfaFactorTypes.Totp, Name = "Bench authenticator",
                        SecretEncrypted = keyRing.Seal(secret, SecondFactors.SealContext(id)), CreatedAt = now, ConfirmedAt = now,
                    });
                }

                await db.SaveChangesAsync();
                db.ChangeTracker.Clear();
            }

            await db.Users.Where(u => u.TenantId == tenantId).ExecuteUpdateAsync(s => s.SetProperty(u => u.MfaEnabled, true));
        }

        Directory.CreateDirectory(outDir);
        await File.WriteAllLinesAsync(Path.Combine(outDir, "t3-users.txt"), emails);

        // First line: the first step's number (Unix seconds / 30); then that step's code and the following ones.
        var first = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / TotpCodes.StepSeconds - 1;
        var lines = new List<string> { first.ToString(CultureInfo.InvariantCulture) };
        for (var step = first; step < first + Steps; step++)
        {
            lines.Add(TotpCodes.Compute(secret, DateTimeOffset.FromUnixTimeSeconds(step * TotpCodes.StepSeconds).UtcDateTime));
        }

        await File.WriteAllLinesAsync(Path.Combine(outDir, "t3-codes.txt"), lines);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# T3 seeded: {count} users with a TOTP factor, codes for {Steps} steps"));
    }
}
