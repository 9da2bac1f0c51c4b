using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using ScaiKey.Api.Cli;
using ScaiKey.Api.SignIn;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation.Ldap;

/// <summary>A synced user whose directory entry changed: its new values, and whether the sync re-enables it.</summary>
internal sealed record LdapUserUpdate(string UserId, string Email, string EmailNormalized, string? Username, string? FirstName, string? LastName, bool Enable);

/// <summary>
/// The sync's writes, one transaction per batch: new users and their federated identities by the bulk path the
/// import uses (a prepared INSERT on SQLite, binary COPY on PostgreSQL, no change tracking), changed users read and
/// saved in one round each, users that left the directory disabled with their sessions and grants.
/// </summary>
internal sealed class LdapSyncWriter : IAsyncDisposable
{
    private readonly ScaiKeyDbContext _db;
    private readonly bool _postgres;
    private readonly BulkTable<User> _users;
    private readonly BulkTable<FederatedIdentity> _links;
    private readonly BulkTable<GroupMember> _members;
    private SqliteInsert? _userInsert;
    private SqliteInsert? _linkInsert;
    private SqliteInsert? _memberInsert;

    private LdapSyncWriter(ScaiKeyDbContext db)
    {
        _db = db;
        _postgres = db.Database.IsNpgsql();
        _users = BulkTable<User>.From(db);
        _links = BulkTable<FederatedIdentity>.From(db);
        _members = BulkTable<GroupMember>.From(db);
    }

    public ScaiKeyDbContext Db => _db;

    public static async Task<LdapSyncWriter> OpenAsync(ScaiKeyDbContext db, CancellationToken ct)
    {
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        await db.Database.OpenConnectionAsync(ct);
        var writer = new LdapSyncWriter(db);
        if (!writer._postgres)
        {
            // As the import's bulk writer does: WAL with synchronous=NORMAL stays crash-safe (a commit may be lost
            // on power failure, never half of one), and a larger page cache keeps the unique indexes in memory.
            await db.Database.ExecuteSqlRawAsync("PRAGMA synchronous=NORMAL; PRAGMA cache_size=-131072; PRAGMA temp_store=MEMORY;", ct);
        }

        return writer;
    }

    /// <summary>One batch of users in one transaction; <paramref name="inTransaction"/> adds what commits with it (audit).</summary>
    public async Task WriteUsersAsync(
        string tenantId, IReadOnlyList<User> created, IReadOnlyList<FederatedIdentity> links, IReadOnlyList<LdapUserUpdate> updates,
        DateTime now, Action inTransaction, CancellationToken ct)
    {
        await using var transaction = await _db.Database.BeginTransactionAsync(ct);
        try
        {
            await InsertAsync(_users, created, ref _userInsert, ct);
            await InsertAsync(_links, links, ref _linkInsert, ct);
            if (updates.Count > 0)
            {
                var byId = updates.ToDictionary(u => u.UserId, StringComparer.Ordinal);
                var ids = byId.Keys.ToList();
                var rows = await _db.Users.Where(u => u.TenantId == tenantId && ids.Contains(u.Id) && u.DeletedAt == null
                    && u.IdentitySource == IdentitySource.Ldap).ToListAsync(ct);
                foreach (var user in rows)
                {
                    var update = byId[user.Id];
                    user.Email = update.Email;
                    user.EmailNormalized = update.EmailNormalized;
                    user.Username = update.Username;
                    user.UsernameNormalized = update.Username?.ToLowerInvariant();
                    user.FirstName = update.FirstName;
                    user.LastName = update.LastName;
                    user.EmailVerified = true;
                    if (update.Enable && user.Status == UserStatus.Disabled && user.StatusReason == LdapSync.LeftDirectoryReason)
                    {
                        user.Status = UserStatus.Active;
                        user.StatusReason = null;
                    }

                    user.SearchText = Users.UserInput.SearchText(user);
                    user.UpdatedAt = now;
                    user.Version++;
                }

                _db.ChangeTracker.DetectChanges();
            }

            inTransaction();
            await _db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }
        finally
        {
            _db.ChangeTracker.Clear();
        }
    }

    /// <summary>
    /// Disables users that left the directory (only ACTIVE or LOCKED ones: an admin's own DISABLED stays as it is),
    /// marking them with <see cref="LdapSync.LeftDirectoryReason"/> so a later sync that finds them again re-enables
    /// them, and ends their sessions and grants. Returns the users it disabled.
    /// </summary>
    public async Task<List<string>> DisableAsync(string tenantId, IReadOnlyList<string> userIds, DateTime now, Action<IReadOnlyList<string>> inTransaction, CancellationToken ct)
    {
        await using var transaction = await _db.Database.BeginTransactionAsync(ct);
        var disabled = await _db.Users.AsNoTracking()
            .Where(u => u.TenantId == tenantId && userIds.Contains(u.Id) && u.DeletedAt == null && u.IdentitySource == IdentitySource.Ldap
                && (u.Status == UserStatus.Active || u.Status == UserStatus.Locked))
            .Select(u => u.Id).ToListAsync(ct);
        if (disabled.Count > 0)
        {
            await _db.Users.Where(u => u.TenantId == tenantId && disabled.Contains(u.Id))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(u => u.Status, UserStatus.Disabled)
                    .SetProperty(u => u.StatusReason, LdapSync.LeftDirectoryReason)
                    .SetProperty(u => u.TokensRevokedAt, now)
                    .SetProperty(u => u.UpdatedAt, now)
                    .SetProperty(u => u.Version, u => u.Version + 1), ct);
            await _db.UserSessions.Where(s => s.TenantId == tenantId && disabled.Contains(s.UserId) && s.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now), ct);
            await _db.TokenGrants.Where(g => g.TenantId == tenantId && disabled.Contains(g.UserId) && g.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(g => g.RevokedAt, now).SetProperty(g => g.RevokedReason, "sessions_revoked"), ct);
            inTransaction(disabled);
            await _db.SaveChangesAsync(ct);
        }

        await transaction.CommitAsync(ct);
        _db.ChangeTracker.Clear();
        return disabled;
    }

    /// <summary>Adds and removes group memberships in one transaction.</summary>
    public async Task WriteMembersAsync(IReadOnlyList<GroupMember> added, IReadOnlyList<(string GroupId, string UserId)> removed, CancellationToken ct)
    {
        await using var transaction = await _db.Database.BeginTransactionAsync(ct);
        await InsertAsync(_members, added, ref _memberInsert, ct);
        foreach (var byGroup in removed.GroupBy(r => r.GroupId, StringComparer.Ordinal))
        {
            foreach (var chunk in byGroup.Select(r => r.UserId).Chunk(500))
            {
                await _db.GroupMembers.Where(m => m.GroupId == byGroup.Key && chunk.Contains(m.UserId)).ExecuteDeleteAsync(ct);
            }
        }

        await transaction.CommitAsync(ct);
    }

    private Task InsertAsync<T>(BulkTable<T> table, IReadOnlyList<T> rows, ref SqliteInsert? prepared, CancellationToken ct)
        where T : class
    {
        if (rows.Count == 0)
        {
            return Task.CompletedTask;
        }

        if (_postgres)
        {
            return table.CopyAsync((NpgsqlConnection)_db.Database.GetDbConnection(), rows, ct);
        }

        prepared ??= table.PrepareInsert((SqliteConnection)_db.Database.GetDbConnection());
        BulkTable<T>.Insert(prepared, table, rows, ct);
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_postgres)
        {
            // The connection goes back to the pool: the pool's other users expect the service's usual durability.
            await _db.Database.ExecuteSqlRawAsync("PRAGMA synchronous=FULL; PRAGMA cache_size=-2000;");
        }

        foreach (var insert in new[] { _userInsert, _linkInsert, _memberInsert })
        {
            if (insert is not null)
            {
                await insert.DisposeAsync();
            }
        }

        await _db.Database.CloseConnectionAsync();
    }

    /// <summary>The sign-in audit actor for changes made by the sync itself.</summary>
    public static string Actor => SignInService.SystemActor;
}
