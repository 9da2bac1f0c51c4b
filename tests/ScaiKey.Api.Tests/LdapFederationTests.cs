using System.DirectoryServices.Protocols;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.Federation.Ldap;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// LDAP identity providers against a real Debian slapd: sign-in by bind, the directory sync (full, incremental,
/// leaving and coming back, LOCAL users and groups untouched), disabled providers, and the sync lease that keeps
/// two instances from running one provider's sync at once. Each test gets its own tenant and its own branch of the
/// directory (ou=...), which is the provider's base_dn.
/// </summary>
public sealed class LdapFederationTests(LdapApp app, SlapdPeer slapd) : IClassFixture<LdapApp>, IClassFixture<SlapdPeer>
{
    private const string Password = "Directory-Secret-42!";

    private sealed record Setup(string Tenant, string ProviderId, string BaseDn, string ClientId, string ClientSecret, string Domain);

    /// <summary>
    /// A tenant with a password-grant application, and its own branch of the directory: ou=people (the provider's
    /// base_dn) with alice, bob, carol and the group engineers (alice and bob), and ou=gone beside it, out of reach.
    /// </summary>
    private async Task<Setup> SetupAsync(object? settings = null, Dictionary<string, object>? extraConfig = null)
    {
        var ou = "t" + Guid.NewGuid().ToString("N")[..10];
        var baseDn = $"ou={ou},{SlapdPeer.Suffix}";
        var domain = ou + ".example.org";
        await slapd.AddAsync($"""
            dn: {baseDn}
            objectClass: organizationalUnit
            ou: {ou}

            dn: ou=people,{baseDn}
            objectClass: organizationalUnit
            ou: people

            dn: ou=gone,{baseDn}
            objectClass: organizationalUnit
            ou: gone

            {Person("alice", "Alice", "Archer", domain, baseDn)}

            {Person("bob", "Bob", "Baker", domain, baseDn)}

            {Person("carol", "Carol", "Cooper", domain, baseDn)}

            dn: cn=engineers,ou=people,{baseDn}
            objectClass: groupOfNames
            cn: engineers
            member: uid=alice,ou=people,{baseDn}
            member: uid=bob,ou=people,{baseDn}
            """);
        var tenant = await app.CreateTenantAsync(settings: settings);
        var config = new Dictionary<string, object>
        {
            ["url"] = slapd.Url,
            ["base_dn"] = $"ou=people,{baseDn}",
            ["bind_dn"] = SlapdPeer.AdminDn,
            ["bind_password"] = SlapdPeer.AdminPassword,
        };
        foreach (var (key, value) in extraConfig ?? [])
        {
            config[key] = value;
        }

        var provider = await app.CreateAsync($"/api/v1/tenants/{tenant}/identity-providers", new { name = "Directory " + ou, type = "LDAP", config });
        using var admin = await app.AdminAsync();
        var application = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/applications", new
        {
            name = "Portal",
            type = "WEB",
            redirect_uris = new[] { "https://portal.example.com/callback" },
            grant_types = new[] { "authorization_code", "password" },
        })).ReadJsonAsync(201))["data"]!;
        return new Setup(tenant, provider, baseDn, application["client_id"]!.GetValue<string>(), application["client_secret"]!.GetValue<string>(), domain);
    }

    private static string Person(string uid, string first, string last, string domain, string baseDn, string ou = "people") => $"""
        dn: uid={uid},ou={ou},{baseDn}
        objectClass: inetOrgPerson
        uid: {uid}
        cn: {first} {last}
        givenName: {first}
        sn: {last}
        mail: {uid}@{domain}
        userPassword: {Password}
        """;

    private async Task<JsonNode> SyncAsync(Setup s, HttpClient? client = null)
    {
        using var admin = client is null ? await app.AdminAsync() : null;
        return await WaitForJobAsync(s, await QueueSyncAsync(s, client ?? admin!));
    }

    /// <summary>Queues a full sync by the API (202 with the job's address) and returns the job's id.</summary>
    private static async Task<string> QueueSyncAsync(Setup s, HttpClient client)
    {
        var response = await client.PostAsync($"/api/v1/tenants/{s.Tenant}/identity-providers/{s.ProviderId}/sync", null);
        var job = (await response.ReadJsonAsync(202))["data"]!;
        Assert.Equal($"/api/v1/tenants/{s.Tenant}/identity-providers/{s.ProviderId}/sync-jobs/{job["id"]}", response.Headers.Location?.OriginalString);
        return job["id"]!.GetValue<string>();
    }

    private async Task<JsonNode> WaitForJobAsync(Setup s, string jobId)
    {
        using var admin = await app.AdminAsync();
        for (var i = 0; i < 600; i++)
        {
            var job = (await (await admin.GetAsync($"/api/v1/tenants/{s.Tenant}/identity-providers/{s.ProviderId}/sync-jobs/{jobId}")).ReadJsonAsync(200))["data"]!;
            if (job["status"]!.GetValue<string>() != "RUNNING")
            {
                return job;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the sync job did not finish within a minute");
    }

    private async Task<HttpResponseMessage> SignInAsync(Setup s, string email, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["username"] = email, ["password"] = password, ["scope"] = "openid email",
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{s.ClientId}:{s.ClientSecret}")));
        return await app.Anonymous().SendAsync(request);
    }

    private Task<User> UserAsync(Setup s, string uid) =>
        app.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.TenantId == s.Tenant && u.EmailNormalized == $"{uid}@{s.Domain}"));

    [PeerFact("slapd")]
    public async Task Full_sync_creates_directory_users_and_groups_with_their_members_and_reports_the_job()
    {
        var s = await SetupAsync();
        var job = await SyncAsync(s);
        Assert.Equal("SUCCEEDED", job["status"]!.GetValue<string>());
        Assert.Equal("FULL", job["kind"]!.GetValue<string>());
        Assert.Equal((3, 0, 0, 0), (job["created"]!.GetValue<int>(), job["updated"]!.GetValue<int>(), job["disabled"]!.GetValue<int>(), job["errors"]!.GetValue<int>()));

        var alice = await UserAsync(s, "alice");
        Assert.Equal((IdentitySource.Ldap, UserStatus.Active, true, "Alice", "Archer", "alice"),
            (alice.IdentitySource, alice.Status, alice.EmailVerified, alice.FirstName, alice.LastName, alice.Username));
        Assert.Null(alice.PasswordHash);
        var link = await app.DbAsync(db => db.FederatedIdentities.AsNoTracking().SingleAsync(f => f.UserId == alice.Id));
        Assert.Equal(s.ProviderId, link.IdentityProviderId);
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-", link.Subject); // entryUUID, not the DN

        var group = await app.DbAsync(db => db.Groups.AsNoTracking().SingleAsync(g => g.TenantId == s.Tenant));
        Assert.Equal((IdentitySource.Ldap, s.ProviderId), (group.IdentitySource, group.IdentityProviderId));
        var members = await app.DbAsync(db => db.GroupMembers.AsNoTracking().Where(m => m.GroupId == group.Id)
            .Join(db.Users, m => m.UserId, u => u.Id, (m, u) => u.Username!).OrderBy(n => n).ToListAsync());
        Assert.Equal(["alice", "bob"], members);

        // A second full run over an unchanged directory changes nothing.
        var again = await SyncAsync(s);
        Assert.Equal((0, 0, 0, 0), (again["created"]!.GetValue<int>(), again["updated"]!.GetValue<int>(), again["disabled"]!.GetValue<int>(), again["errors"]!.GetValue<int>()));
        Assert.Contains(await app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TargetId == s.ProviderId).Select(e => e.Action).ToListAsync()),
            a => a == "identity_provider.sync_succeeded");
    }

    [PeerFact("slapd")]
    public async Task Directory_users_sign_in_by_bind_and_wrong_passwords_count_toward_the_lockout()
    {
        var s = await SetupAsync(new { lockout_policy = new { max_failed_attempts = 3, lockout_duration_minutes = 15 } });
        await SyncAsync(s);

        var tokens = await (await SignInAsync(s, $"alice@{s.Domain}", Password)).ReadJsonAsync(200);
        Assert.False(string.IsNullOrEmpty(tokens["access_token"]?.GetValue<string>()));
        Assert.Null((await UserAsync(s, "alice")).PasswordHash);

        // Wrong passwords are refused like local ones, and counted: the third locks the account.
        for (var i = 1; i <= 3; i++)
        {
            var refused = await (await SignInAsync(s, $"bob@{s.Domain}", "Not-The-Password-1")).ReadJsonAsync(400);
            Assert.Equal("invalid_grant", refused["error"]!.GetValue<string>());
            var bob = await UserAsync(s, "bob");
            Assert.Equal(i == 3 ? UserStatus.Locked : UserStatus.Active, bob.Status);
        }

        // Locked: even the right password is refused now.
        await (await SignInAsync(s, $"bob@{s.Domain}", Password)).ReadJsonAsync(400);
        Assert.Null((await UserAsync(s, "bob")).PasswordHash);
    }

    [PeerFact("slapd")]
    public async Task An_empty_password_never_reaches_the_directory_where_it_would_bind_anonymously()
    {
        var s = await SetupAsync();
        var dn = $"uid=alice,ou=people,{s.BaseDn}";

        // The control: this slapd (allow bind_anon_dn) accepts a DN with an empty password as an unauthenticated bind.
        using (var raw = new LdapConnection(new LdapDirectoryIdentifier("127.0.0.1", slapd.Port)) { AuthType = AuthType.Basic })
        {
            raw.SessionOptions.ProtocolVersion = 3;
            raw.Bind(new NetworkCredential(dn, ""));
        }

        var settings = new LdapSettings(new Uri(slapd.Url), false, s.BaseDn, SlapdPeer.AdminDn, SlapdPeer.AdminPassword,
            LdapSettings.DefaultUserFilter, LdapSettings.DefaultGroupFilter, new LdapAttributes("entryUUID", "uid", "mail", "givenName", "sn", "member"), 0);
        using var directory = LdapDirectory.Connect(settings, TimeSpan.FromSeconds(5));
        Assert.False(directory.TryBind(dn, ""));
        Assert.True(directory.TryBind(dn, Password));
    }

    [Fact]
    public void Values_put_into_filters_are_escaped_as_RFC_4515_says()
    {
        Assert.Equal(@"\2a\29\28uid=\2a\29\5c\00", LdapDirectory.Escape("*)(uid=*)\\\0"));
        Assert.Equal(@"j\c3\b6rg", LdapDirectory.Escape("jörg"));
        Assert.Equal("plain-value.1", LdapDirectory.Escape("plain-value.1"));
    }

    [PeerFact("slapd")]
    public async Task The_periodic_incremental_sync_picks_up_a_changed_entry_by_modifyTimestamp()
    {
        var s = await SetupAsync(extraConfig: new() { ["sync_interval_minutes"] = 60 });
        await SyncAsync(s);
        await slapd.ModifyAsync($"""
            dn: uid=carol,ou=people,{s.BaseDn}
            changetype: modify
            replace: givenName
            givenName: Caroline

            dn: cn=engineers,ou=people,{s.BaseDn}
            changetype: modify
            delete: member
            member: uid=bob,ou=people,{s.BaseDn}
            -
            add: member
            member: uid=carol,ou=people,{s.BaseDn}
            """);

        // The interval has elapsed (LastSyncedAt moved back): the next round of the worker runs an incremental sync.
        await app.DbAsync(db => db.IdentityProviders.Where(p => p.Id == s.ProviderId)
            .ExecuteUpdateAsync(u => u.SetProperty(p => p.LastSyncedAt, DateTime.UtcNow.AddMinutes(-61))));
        await app.Host.Services.GetRequiredService<LdapSyncWorker>().RunDueAsync(CancellationToken.None);

        var job = await app.DbAsync(db => db.IdentityProviderSyncJobs.AsNoTracking().Where(j => j.IdentityProviderId == s.ProviderId && j.Kind == "INCREMENTAL").SingleAsync());
        Assert.Equal(("SUCCEEDED", 0, 1, 0), (job.Status, job.Created, job.Updated, job.Disabled));
        Assert.Null(job.StartedBy);
        Assert.Equal("Caroline", (await UserAsync(s, "carol")).FirstName);
        Assert.Equal("Alice", (await UserAsync(s, "alice")).FirstName);

        // The changed group's members are mapped too, alice (unchanged, so not read by the run) included.
        var members = await app.DbAsync(db => db.GroupMembers.AsNoTracking().Where(m => m.TenantId == s.Tenant)
            .Join(db.Users, m => m.UserId, u => u.Id, (m, u) => u.Username!).OrderBy(n => n).ToListAsync());
        Assert.Equal(["alice", "carol"], members);

        // Not due again yet: no further incremental job. (A provider with an interval is due from its creation, so
        // the worker may have run a periodic FULL sync beside the one this test started; that is not counted here.)
        await app.Host.Services.GetRequiredService<LdapSyncWorker>().RunDueAsync(CancellationToken.None);
        Assert.Equal(1, await app.DbAsync(db => db.IdentityProviderSyncJobs.CountAsync(j => j.IdentityProviderId == s.ProviderId && j.Kind == "INCREMENTAL")));
    }

    [PeerFact("slapd")]
    public async Task A_user_who_left_the_directory_is_disabled_and_enabled_again_when_the_entry_returns()
    {
        var s = await SetupAsync();
        await SyncAsync(s);
        var token = (await (await SignInAsync(s, $"carol@{s.Domain}", Password)).ReadJsonAsync(200))["access_token"]!.GetValue<string>();

        // Moved out of the filter's reach (ou=gone): for the sync the entry left; its entryUUID stays the same.
        await slapd.MoveAsync($"uid=carol,ou=people,{s.BaseDn}", "uid=carol", $"ou=gone,{s.BaseDn}");
        var job = await SyncAsync(s);
        Assert.Equal(1, job["disabled"]!.GetValue<int>());
        var carol = await UserAsync(s, "carol");
        Assert.Equal((UserStatus.Disabled, LdapSync.LeftDirectoryReason), (carol.Status, carol.StatusReason));
        Assert.Equal(UserStatus.Active, (await UserAsync(s, "alice")).Status);
        using (var revoked = app.WithToken(token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.GetAsync("/connect/userinfo")).StatusCode);
        }

        await (await SignInAsync(s, $"carol@{s.Domain}", Password)).ReadJsonAsync(400);

        // An admin's own disabling is not undone by a sync; the sync's own is, when the entry comes back.
        await slapd.MoveAsync($"uid=carol,ou=gone,{s.BaseDn}", "uid=carol", $"ou=people,{s.BaseDn}");
        var back = await SyncAsync(s);
        Assert.Equal(1, back["updated"]!.GetValue<int>());
        Assert.Equal(UserStatus.Active, (await UserAsync(s, "carol")).Status);
        await (await SignInAsync(s, $"carol@{s.Domain}", Password)).ReadJsonAsync(200);

        using var admin = await app.AdminAsync();
        var bob = await UserAsync(s, "bob");
        await (await admin.PutAsJsonAsync($"/api/v1/tenants/{s.Tenant}/users/{bob.Id}/status", new { status = "DISABLED", reason = "On leave" })).ShouldBeAsync(200);
        await SyncAsync(s);
        Assert.Equal((UserStatus.Disabled, "On leave"), ((await UserAsync(s, "bob")).Status, (await UserAsync(s, "bob")).StatusReason));
    }

    [PeerFact("slapd")]
    public async Task A_local_user_and_a_local_group_with_the_directory_email_or_name_are_left_alone_and_counted_as_errors()
    {
        var s = await SetupAsync();
        var localId = await app.CreateUserIdAsync(s.Tenant, $"bob@{s.Domain}", "Local-Password-77!");
        var localGroup = await app.CreateAsync($"/api/v1/tenants/{s.Tenant}/groups", new { name = "engineers" });

        var job = await SyncAsync(s);
        Assert.Equal(("SUCCEEDED", 2, 2), (job["status"]!.GetValue<string>(), job["created"]!.GetValue<int>(), job["errors"]!.GetValue<int>()));
        Assert.Contains("belongs to a LOCAL user", job["error_detail"]!.GetValue<string>());

        var bob = await UserAsync(s, "bob");
        Assert.Equal((localId, IdentitySource.Local), (bob.Id, bob.IdentitySource));
        Assert.NotNull(bob.PasswordHash);
        Assert.False(await app.DbAsync(db => db.FederatedIdentities.AnyAsync(f => f.UserId == localId)));
        var group = await app.DbAsync(db => db.Groups.AsNoTracking().SingleAsync(g => g.Id == localGroup));
        Assert.Equal((IdentitySource.Local, (string?)null), (group.IdentitySource, group.IdentityProviderId));
        Assert.False(await app.DbAsync(db => db.GroupMembers.AnyAsync(m => m.GroupId == localGroup)));

        // The local user still signs in with the local password, not the directory's.
        await (await SignInAsync(s, $"bob@{s.Domain}", "Local-Password-77!")).ReadJsonAsync(200);
        await (await SignInAsync(s, $"bob@{s.Domain}", Password)).ReadJsonAsync(400);
    }

    [PeerFact("slapd")]
    public async Task A_disabled_provider_neither_syncs_nor_signs_its_users_in()
    {
        var s = await SetupAsync();
        await SyncAsync(s);
        using var admin = await app.AdminAsync();
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{s.Tenant}/identity-providers/{s.ProviderId}", new { enabled = false })).ShouldBeAsync(200);

        var refused = await admin.PostAsync($"/api/v1/tenants/{s.Tenant}/identity-providers/{s.ProviderId}/sync", null);
        Assert.Contains("disabled", (await refused.ReadProblemAsync(409))["detail"]!.GetValue<string>());
        await (await SignInAsync(s, $"alice@{s.Domain}", Password)).ReadJsonAsync(400);
        Assert.Equal(0, (await UserAsync(s, "alice")).FailedLoginAttempts);

        // The control: enabled again, the same password signs in.
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{s.Tenant}/identity-providers/{s.ProviderId}", new { enabled = true })).ShouldBeAsync(200);
        await (await SignInAsync(s, $"alice@{s.Domain}", Password)).ReadJsonAsync(200);
    }

    [PeerFact("slapd")]
    public async Task An_unreachable_directory_is_a_clear_refusal_and_a_failed_job_not_a_500()
    {
        var s = await SetupAsync();
        await SyncAsync(s);
        using var admin = await app.AdminAsync();
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var deadPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{s.Tenant}/identity-providers/{s.ProviderId}",
            new { config = new { url = $"ldap://127.0.0.1:{deadPort}/" } })).ShouldBeAsync(200);

        var busy = await SignInAsync(s, $"alice@{s.Domain}", Password);
        await busy.ReadProblemAsync(503);
        Assert.NotNull(busy.Headers.RetryAfter);
        Assert.Equal(0, (await UserAsync(s, "alice")).FailedLoginAttempts);

        var job = await SyncAsync(s);
        Assert.Equal("FAILED", job["status"]!.GetValue<string>());
        Assert.Contains("did not answer", job["error_detail"]!.GetValue<string>());
        Assert.DoesNotContain(SlapdPeer.AdminPassword, job.ToJsonString());
        Assert.Equal(UserStatus.Active, (await UserAsync(s, "alice")).Status);
    }

    [PeerFact("slapd")]
    public async Task Two_instances_never_hold_one_providers_sync_lease_at_once()
    {
        var s = await SetupAsync();
        var second = app.StartHost(b => b.UseSetting("ScaiKey:Federation:Ldap:PollSeconds", "3600"));
        try
        {
            var first = app.Host.Services.GetRequiredService<LdapSyncWorker>();
            var other = second.Services.GetRequiredService<LdapSyncWorker>();
            Assert.NotEqual(first.InstanceId, other.InstanceId);
            async Task<bool> TryAsync(ScaiKeyHost host, string owner)
            {
                await using var scope = host.Services.CreateAsyncScope();
                return await LdapSyncWorker.TryLeaseAsync(scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>(), s.ProviderId, owner,
                    DateTime.UtcNow, TimeSpan.FromMinutes(5), CancellationToken.None);
            }

            // Both instances race for the free lease, again and again: exactly one wins each time.
            for (var round = 0; round < 10; round++)
            {
                var wins = await Task.WhenAll(TryAsync(app.Host, "a" + round), TryAsync(second, "b" + round));
                Assert.Single(wins, w => w);
                await app.DbAsync(db => LdapSyncWorker.ReleaseAsync(db, s.ProviderId, wins[0] ? "a" + round : "b" + round, CancellationToken.None));
            }

            // The second instance holds the lease: a job queued on the first waits, the first's rounds leave it alone...
            Assert.True(await TryAsync(second, other.InstanceId));
            using var admin = await app.AdminAsync();
            var queued = await QueueSyncAsync(s, admin);
            await first.RunDueAsync(CancellationToken.None);
            var waiting = await app.DbAsync(db => db.IdentityProviderSyncJobs.AsNoTracking().SingleAsync(j => j.Id == queued));
            Assert.Equal(("RUNNING", 0), (waiting.Status, waiting.Created));

            // ...and once the lease is given back, the job runs.
            await app.DbAsync(db => LdapSyncWorker.ReleaseAsync(db, s.ProviderId, other.InstanceId, CancellationToken.None));
            await first.RunDueAsync(CancellationToken.None);
            var done = await WaitForJobAsync(s, queued);
            Assert.Equal(("SUCCEEDED", 3), (done["status"]!.GetValue<string>(), done["created"]!.GetValue<int>()));
            Assert.Null((await app.DbAsync(db => db.IdentityProviders.AsNoTracking().SingleAsync(p => p.Id == s.ProviderId))).SyncLeaseOwner);
        }
        finally
        {
            await app.StopHostAsync(second);
        }
    }

    [PeerFact("slapd")]
    public async Task Rounds_of_one_instance_started_side_by_side_run_a_queued_job_once()
    {
        // The lease is per instance, so it cannot keep one instance's rounds apart: the worker runs them one at a
        // time. Without that, rounds that read the queue before the first took the lease took it too and ran the
        // job again, failing on the users the first run had created. The race needs the reads to overlap, so it is
        // tried on six fresh providers with eight rounds each; each run ends in one audit event, so they count runs.
        var worker = app.Host.Services.GetRequiredService<LdapSyncWorker>();
        using var admin = await app.AdminAsync();
        for (var attempt = 0; attempt < 6; attempt++)
        {
            var s = await SetupAsync();
            var queued = await QueueSyncAsync(s, admin);
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var rounds = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                await start.Task;
                await worker.RunDueAsync(CancellationToken.None);
            })).ToList();
            start.SetResult();
            await Task.WhenAll(rounds);

            var done = await WaitForJobAsync(s, queued);
            Assert.Equal(("SUCCEEDED", 3, 0), (done["status"]!.GetValue<string>(), done["created"]!.GetValue<int>(), done["errors"]!.GetValue<int>()));
            Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TargetId == s.ProviderId
                && (e.Action == "identity_provider.sync_succeeded" || e.Action == "identity_provider.sync_failed"))));
        }
    }

    [PeerFact("slapd")]
    public async Task A_job_queued_before_its_tenant_was_deleted_fails_and_creates_nobody()
    {
        var s = await SetupAsync();
        var worker = app.Host.Services.GetRequiredService<LdapSyncWorker>();
        using var admin = await app.AdminAsync();

        // Another instance holds the lease, so the job waits while the tenant (no users yet) is deleted.
        await app.DbAsync(db => LdapSyncWorker.TryLeaseAsync(db, s.ProviderId, "other", DateTime.UtcNow, TimeSpan.FromMinutes(5), CancellationToken.None));
        var queued = await QueueSyncAsync(s, admin);
        await (await admin.DeleteAsync($"/api/v1/admin/tenants/{s.Tenant}")).ShouldBeAsync(204);
        await app.DbAsync(db => LdapSyncWorker.ReleaseAsync(db, s.ProviderId, "other", CancellationToken.None));
        await worker.RunDueAsync(CancellationToken.None);

        var job = await app.DbAsync(db => db.IdentityProviderSyncJobs.AsNoTracking().SingleAsync(j => j.Id == queued));
        Assert.Equal(("FAILED", 0, "The tenant was deleted; nothing was synced."), (job.Status, job.Created, job.ErrorDetail));
        Assert.Equal(0, await app.DbAsync(db => db.Users.CountAsync(u => u.TenantId == s.Tenant)));
    }

    [PeerFact("slapd")]
    public async Task Sync_routes_refuse_other_provider_types_bad_settings_and_unknown_jobs()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var oidc = await app.CreateAsync($"/api/v1/tenants/{tenant}/identity-providers",
            new { name = "Upstream", type = "OIDC", config = new { issuer = "https://login.example.com", client_id = "scaikey" } });
        var refused = await admin.PostAsync($"/api/v1/tenants/{tenant}/identity-providers/{oidc}/sync", null);
        Assert.Contains("Only LDAP", (await refused.ReadProblemAsync(409))["detail"]!.GetValue<string>());
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/identity-providers/{oidc}/sync-jobs/nope")).ReadProblemAsync(404);
        await (await admin.PostAsync($"/api/v1/tenants/{tenant}/identity-providers/nope/sync", null)).ReadProblemAsync(404);

        var bad = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers", new
        {
            name = "Bad directory",
            type = "LDAP",
            config = new
            {
                url = "ldaps://dc.example.com",
                base_dn = "dc=example,dc=com",
                start_tls = true,
                user_filter = "objectClass=person)(",
                group_filter = 7,
                attributes = new { email = "mail)(x", nickname = "cn" },
                sync_interval_minutes = -1,
            },
        });
        var errors = await bad.ReadValidationErrorsAsync();
        Assert.Equal(
            ["body.config.attributes.email|value_error", "body.config.attributes.nickname|value_error", "body.config.group_filter|string_type",
                "body.config.start_tls|value_error", "body.config.sync_interval_minutes|value_error", "body.config.user_filter|value_error"],
            errors.Order(StringComparer.Ordinal));

        // Both routes are in the published contract.
        var paths = (await (await app.Anonymous().GetAsync("/openapi.json")).ReadJsonAsync(200))["paths"]!.AsObject();
        Assert.NotNull(paths["/api/v1/tenants/{tenant_id}/identity-providers/{identity_provider_id}/sync"]?["post"]);
        Assert.NotNull(paths["/api/v1/tenants/{tenant_id}/identity-providers/{identity_provider_id}/sync-jobs/{job_id}"]?["get"]);

        // The control: the same keys with good values are accepted, and the bind password is kept write-only.
        var good = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers", new
        {
            name = "Good directory",
            type = "LDAP",
            config = new
            {
                url = "ldap://dc.example.com", base_dn = "dc=example,dc=com", start_tls = true, bind_dn = "cn=svc,dc=example,dc=com",
                bind_password = "never-shown-Ab12", user_filter = "(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
                attributes = new { id = "objectGUID", username = "sAMAccountName" }, sync_interval_minutes = 30,
            },
        });
        var created = (await good.ReadJsonAsync(201))["data"]!;
        Assert.Equal(["bind_password"], created["secret_fields"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.DoesNotContain("never-shown", created.ToJsonString());
    }
}
