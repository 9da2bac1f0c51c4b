using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ScaiKey.Api.Infrastructure;

internal static class DbErrors
{
    /// <summary>True when a unique index rejected the write; <paramref name="detail"/> names the index or columns.</summary>
    public static bool IsUniqueViolation(DbUpdateException exception, out string detail)
    {
        switch (exception.InnerException)
        {
            case PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg:
                detail = pg.ConstraintName ?? string.Empty;
                return true;
            case SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 } sqlite:
                detail = sqlite.Message;
                return true;
            default:
                detail = string.Empty;
                return false;
        }
    }

    /// <summary>
    /// True when a foreign key rejected the write: something it points at was deleted meanwhile. A membership of a
    /// user soft-deleted meanwhile counts too (the LiveMemberships trigger; on SQLite known by its message).
    /// </summary>
    public static bool IsForeignKeyViolation(DbUpdateException exception) => exception.InnerException switch
    {
        PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation } => true,
        SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 787 } => true,
        SqliteException { SqliteErrorCode: 19 } sqlite => sqlite.Message.Contains(Data.MembershipRules.DeletedUserRefusal, StringComparison.Ordinal),
        _ => false,
    };

    public const string ConcurrentDeleteDetail = "Something this change refers to was deleted at the same time. Read it again and retry.";
}
