using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Federation.Ldap;

/// <summary>What one sync run did, as its job reports it.</summary>
internal sealed class LdapSyncCounts
{
    private const int MaxDetails = 20;

    public int Created { get; set; }

    public int Updated { get; set; }

    public int Disabled { get; set; }

    public int Errors { get; private set; }

    public List<string> Details { get; } = [];

    /// <summary>An entry the sync could not apply: counted, the first ones kept for the job's error_detail.</summary>
    public void Error(string detail)
    {
        Errors++;
        if (Details.Count < MaxDetails)
        {
            Details.Add(detail);
        }
    }
}

/// <summary>
/// One run of an LDAP provider's directory sync (the caller holds the provider's sync lease). Users: every entry
/// of user_filter under base_dn (FULL), or those whose modifyTimestamp is at or after the cursor (INCREMENTAL),
/// read a page at a time and written a batch at a time against lookups preloaded once (links by subject, the
/// tenant's users by email and username): created with identity_source LDAP, updated when changed, never a
/// LOCAL user (an entry whose email belongs to one is an error of the job, not a takeover). A FULL run then
/// disables the provider's users whose entries are gone. Groups: see <see cref="LdapGroupSync"/>.
/// </summary>
internal sealed class LdapSync(ScaiKeyDbContext db, AuditLog audit, KeyRing keyRing, TimeProvider time, RevocationCache revocations,
    IOptions<FederationOptions> options, ILogger<LdapSync> logger, Telemetry.ScaiKeyMetrics metrics)
{
    public const string ProviderType = "LDAP";
    public const string Full = "FULL";
    public const string Incremental = "INCREMENTAL";
    public const string AuditActor = "ldap_sync";

    /// <summary>The status reason of a user the sync disabled; only such users are re-enabled when their entry returns.</summary>
    public const string LeftDirectoryReason = "Left the LDAP directory";

    private const int BatchSize = 2000;
    private const string TimestampAttribute = "modifyTimestamp";

    private sealed record UserRow(string Id, string EmailNormalized, string? UsernameNormalized, string Email, string? Username,
        string? FirstName, string? LastName, UserStatus Status, string? StatusReason, IdentitySource Source);

    /// <summary>
    /// Runs <paramref name="job"/>: returns the counts and the new cursor (the highest modifyTimestamp seen, or the
    /// old one). <paramref name="heartbeat"/> runs between batches (the caller renews its lease there). Throws
    /// <see cref="LdapUnavailableException"/> when the directory fails; nothing is disabled then.
    /// </summary>
    public async Task<(LdapSyncCounts Counts, string? Cursor)> RunAsync(
        IdentityProvider provider, IdentityProviderSyncJob job, Func<Task> heartbeat, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan searching = TimeSpan.Zero, writing = TimeSpan.Zero;
        var settings = LdapSettings.From(keyRing, provider);
        var attributes = settings.Attributes;
        var full = job.Kind == Full || provider.SyncCursor is null;
        var tenantId = provider.TenantId;
        var counts = new LdapSyncCounts();
        var cursor = provider.SyncCursor;

        var links = await db.FederatedIdentities.AsNoTracking().Where(f => f.TenantId == tenantId && f.IdentityProviderId == provider.Id)
            .ToDictionaryAsync(f => f.Subject, f => f.UserId, StringComparer.Ordinal, ct);

        // The tenant's users are read when the first entry arrives: an incremental run over an unchanged directory
        // gets no entry and so reads none of them.
        Dictionary<string, UserRow> byId = [];
        Dictionary<string, string> byEmail = [], byUsername = [];
        var usersLoaded = false;
        async Task LoadUsersAsync()
        {
            var users = await db.Users.AsNoTracking().Where(u => u.TenantId == tenantId && u.DeletedAt == null)
                .Select(u => new UserRow(u.Id, u.EmailNormalized, u.UsernameNormalized, u.Email, u.Username, u.FirstName, u.LastName,
                    u.Status, u.StatusReason, u.IdentitySource))
                .ToListAsync(ct);
            byId = users.ToDictionary(u => u.Id, StringComparer.Ordinal);
            byEmail = users.ToDictionary(u => u.EmailNormalized, u => u.Id, StringComparer.Ordinal);
            byUsername = users.Where(u => u.UsernameNormalized is not null).ToDictionary(u => u.UsernameNormalized!, u => u.Id, StringComparer.Ordinal);
            usersLoaded = true;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var userByDn = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var created = new List<User>(BatchSize);
        var newLinks = new List<FederatedIdentity>(BatchSize);
        var updates = new List<LdapUserUpdate>();
        await using var writer = await LdapSyncWriter.OpenAsync(db, ct);
        using var directory = LdapDirectory.Connect(settings, TimeSpan.FromSeconds(options.Value.ProviderTimeoutSeconds));

        async Task FlushAsync()
        {
            if (created.Count + updates.Count == 0)
            {
                return;
            }

            var now = time.UtcNow();
            var started = clock.Elapsed;
            await writer.WriteUsersAsync(tenantId, created, newLinks, updates, now, () => audit.RecordAs(
                SignInService.SystemActor, AuditActor, "identity_provider.sync_batch", "identity_provider", provider.Id, tenantId, ["users"],
                $"job {job.Id}: {created.Count} users created, {updates.Count} updated"), ct);
            writing += clock.Elapsed - started;
            counts.Created += created.Count;
            counts.Updated += updates.Count;
            metrics.FederationSyncUsers(ProviderType, "created", created.Count);
            metrics.FederationSyncUsers(ProviderType, "updated", updates.Count);
            created.Clear();
            newLinks.Clear();
            updates.Clear();
            await heartbeat();
        }

        var userFilter = full ? settings.UserFilter : $"(&{settings.UserFilter}({TimestampAttribute}>={LdapDirectory.Escape(cursor!)}))";
        string[] userAttributes = [attributes.Id, attributes.Username, attributes.Email, attributes.FirstName, attributes.LastName, TimestampAttribute];
        var loaded = clock.Elapsed;
        var pageStarted = clock.Elapsed;
        foreach (var page in directory.SearchPages(userFilter, userAttributes))
        {
            searching += clock.Elapsed - pageStarted;
            if (page.Count > 0 && !usersLoaded)
            {
                var loading = clock.Elapsed;
                await LoadUsersAsync();
                loaded += clock.Elapsed - loading;
            }

            foreach (var entry in page)
            {
                cursor = Later(cursor, LdapDirectory.First(entry, TimestampAttribute));
                var subject = LdapDirectory.Id(entry, attributes.Id);
                var mail = LdapDirectory.First(entry, attributes.Email)?.Trim();
                if (subject is null || subject.Length > 500)
                {
                    counts.Error($"{entry.DistinguishedName}: no usable {attributes.Id}");
                    continue;
                }

                seen.Add(subject);
                if (mail is null || mail.Length > 320 || mail.IndexOf('@') is <= 0 || mail.EndsWith('@'))
                {
                    counts.Error($"{entry.DistinguishedName}: no valid email in {attributes.Email}");
                    continue;
                }

                var email = EmailAddresses.Normalize(mail);
                var username = Clip(LdapDirectory.First(entry, attributes.Username));
                var usernameKey = username?.ToLowerInvariant();
                var first = Clip(LdapDirectory.First(entry, attributes.FirstName));
                var last = Clip(LdapDirectory.First(entry, attributes.LastName));
                links.TryGetValue(subject, out var userId);
                if (byEmail.TryGetValue(email, out var emailOwner) && emailOwner != userId)
                {
                    var owner = byId[emailOwner];
                    counts.Error(owner.Source == IdentitySource.Local
                        ? $"{entry.DistinguishedName}: {mail} belongs to a LOCAL user, who is left as is"
                        : $"{entry.DistinguishedName}: {mail} belongs to another user (identity_source {owner.Source.ToString().ToUpperInvariant()})");
                    continue;
                }

                if (usernameKey is not null && byUsername.TryGetValue(usernameKey, out var usernameOwner) && usernameOwner != userId)
                {
                    counts.Error($"{entry.DistinguishedName}: username {username} belongs to another user");
                    continue;
                }

                if (userId is null)
                {
                    var user = NewUser(tenantId, mail, email, username, first, last);
                    created.Add(user);
                    newLinks.Add(new FederatedIdentity
                    {
                        Id = Ids.New(), TenantId = tenantId, UserId = user.Id, IdentityProviderId = provider.Id, Subject = subject,
                        Email = mail, CreatedAt = user.CreatedAt,
                    });
                    links[subject] = user.Id;
                    byId[user.Id] = new UserRow(user.Id, email, usernameKey, mail, username, first, last, UserStatus.Active, null, IdentitySource.Ldap);
                    byEmail[email] = user.Id;
                    if (usernameKey is not null)
                    {
                        byUsername[usernameKey] = user.Id;
                    }

                    userByDn[entry.DistinguishedName] = user.Id;
                }
                else
                {
                    userByDn[entry.DistinguishedName] = userId;
                    var row = byId[userId];
                    var enable = row.Status == UserStatus.Disabled && row.StatusReason == LeftDirectoryReason;
                    if (enable || row.Email != mail || row.Username != username || row.FirstName != first || row.LastName != last)
                    {
                        updates.Add(new LdapUserUpdate(userId, mail, email, username, first, last, enable));
                        byEmail.Remove(row.EmailNormalized);
                        byEmail[email] = userId;
                        if (row.UsernameNormalized is not null)
                        {
                            byUsername.Remove(row.UsernameNormalized);
                        }

                        if (usernameKey is not null)
                        {
                            byUsername[usernameKey] = userId;
                        }

                        byId[userId] = row with
                        {
                            EmailNormalized = email, UsernameNormalized = usernameKey, Email = mail, Username = username, FirstName = first,
                            LastName = last, Status = enable ? UserStatus.Active : row.Status,
                        };
                    }
                }

                if (created.Count + updates.Count >= BatchSize)
                {
                    await FlushAsync();
                }
            }

            pageStarted = clock.Elapsed;
        }

        await FlushAsync();
        if (full)
        {
            await DisableGoneAsync(writer, provider, job, links, seen, counts, ct);
        }

        var usersDone = clock.Elapsed;
        var groups = new LdapGroupSync(writer, audit, time);
        cursor = await groups.RunAsync(directory, provider, job, full, cursor, links, userByDn, counts, ct);

        // What a run spent where, for the operator (and the bench): nothing of the entries themselves.
        logger.LogInformation(
            "LDAP sync job {JobId} ({Kind}): {Seen} user entries; preload {Preload} ms, directory reads {Search} ms, user writes {Write} ms, "
            + "other user work {Other} ms, groups {Groups} ms", job.Id, full ? Full : Incremental, seen.Count, (int)loaded.TotalMilliseconds,
            (int)searching.TotalMilliseconds, (int)writing.TotalMilliseconds, (int)(usersDone - loaded - searching - writing).TotalMilliseconds,
            (int)(clock.Elapsed - usersDone).TotalMilliseconds);
        return (counts, cursor);
    }

    /// <summary>Users linked to this provider whose entries a complete search no longer returned.</summary>
    private async Task DisableGoneAsync(LdapSyncWriter writer, IdentityProvider provider, IdentityProviderSyncJob job,
        Dictionary<string, string> links, HashSet<string> seen, LdapSyncCounts counts, CancellationToken ct)
    {
        var gone = links.Where(l => !seen.Contains(l.Key)).Select(l => l.Value).ToList();
        foreach (var chunk in gone.Chunk(500))
        {
            var disabled = await writer.DisableAsync(provider.TenantId, chunk, time.UtcNow(), ids =>
            {
                foreach (var id in ids)
                {
                    audit.RecordAs(SignInService.SystemActor, AuditActor, "user.status_changed", "user", id, provider.TenantId,
                        ["status", "sessions"], $"{LeftDirectoryReason} (identity provider {provider.Id}, job {job.Id})");
                }
            }, ct);
            counts.Disabled += disabled.Count;
            metrics.FederationSyncUsers(ProviderType, "disabled", disabled.Count);
            foreach (var id in disabled)
            {
                revocations.EvictUser(id);
            }
        }
    }

    private User NewUser(string tenantId, string mail, string email, string? username, string? first, string? last)
    {
        var now = time.UtcNow();
        var user = new User
        {
            Id = Ids.New(),
            TenantId = tenantId,
            Email = mail,
            EmailNormalized = email,
            Username = username,
            UsernameNormalized = username?.ToLowerInvariant(),
            FirstName = first,
            LastName = last,
            Locale = "en",
            Timezone = "UTC",

            // The directory vouches for its own mail attribute; the user signs in with it.
            EmailVerified = true,
            Status = UserStatus.Active,
            IdentitySource = IdentitySource.Ldap,
            SearchText = string.Empty,
            CreatedAt = now,
            Version = 1,
        };
        user.SearchText = UserInput.SearchText(user);
        return user;
    }

    /// <summary>The later of two GeneralizedTime stamps of one directory (they compare as text within one format).</summary>
    public static string? Later(string? a, string? b) =>
        b is null || b.Length > 64 ? a : a is null || string.CompareOrdinal(b, a) > 0 ? b : a;

    // Names longer than the column are cut rather than refused: the directory is the source, the copy a convenience.
    private static string? Clip(string? value) => value is null ? null : value.Length <= 200 ? value : value[..200];
}
