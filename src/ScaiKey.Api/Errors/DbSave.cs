using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Infrastructure;

namespace ScaiKey.Api.Errors;

/// <summary>
/// The endpoints' save: a unique or foreign-key violation answered as the contract's 409. An HTTP helper (it returns
/// the answer), so it lives with the problem writers rather than with the database helpers in Infrastructure.
/// </summary>
internal static class DbSave
{
    /// <summary>Saves; a unique-index violation becomes a 409 with <paramref name="conflictDetail"/>, anything else propagates.</summary>
    public static async Task<IResult?> SaveOrConflictAsync(this ScaiKey.Data.ScaiKeyDbContext db, string conflictDetail, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return null;
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out _))
        {
            return Problems.Conflict(conflictDetail);
        }
        catch (DbUpdateException ex) when (DbErrors.IsForeignKeyViolation(ex))
        {
            return Problems.Conflict(DbErrors.ConcurrentDeleteDetail);
        }
    }
}
