using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The directory sync's counter (`scaikey_federation_sync_users_total`, docs/operations.md), read from /metrics
/// after a real sync against Debian's slapd: users created by the first run, disabled when they leave the directory.
/// In the telemetry collection because a test reads /metrics only while its host is the only one with metrics on.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class LdapSyncMetricsTests(MetricsApp app, SlapdPeer slapd) : IClassFixture<MetricsApp>, IClassFixture<SlapdPeer>
{
    [PeerFact("slapd")]
    public async Task A_sync_counts_the_users_it_created_and_the_users_it_disabled()
    {
        var ou = "m" + Guid.NewGuid().ToString("N")[..10];
        var baseDn = $"ou={ou},{SlapdPeer.Suffix}";
        await slapd.AddAsync($"""
            dn: {baseDn}
            objectClass: organizationalUnit
            ou: {ou}

            {Person("dana", baseDn, ou)}

            {Person("eric", baseDn, ou)}
            """);
        var tenant = await app.CreateTenantAsync();
        var provider = await app.CreateAsync($"/api/v1/tenants/{tenant}/identity-providers", new
        {
            name = "Directory " + ou,
            type = "LDAP",
            config = new Dictionary<string, object>
            {
                ["url"] = slapd.Url,
                ["base_dn"] = baseDn,
                ["bind_dn"] = SlapdPeer.AdminDn,
                ["bind_password"] = SlapdPeer.AdminPassword,
            },
        });

        var before = await MetricsScrape.ReadAsync(app.Host);
        Assert.Equal("SUCCEEDED", (await SyncAsync(tenant, provider))["status"]!.GetValue<string>());
        var afterFirst = await MetricsScrape.ReadAsync(app.Host);
        Assert.True(2 == Delta(before, afterFirst, "created"), afterFirst.Text);
        Assert.Equal(0, Delta(before, afterFirst, "disabled"));

        // eric leaves the directory: the next full sync disables him and counts it, and creates no one.
        await slapd.DeleteAsync($"uid=eric,{baseDn}");
        Assert.Equal("SUCCEEDED", (await SyncAsync(tenant, provider))["status"]!.GetValue<string>());
        var afterSecond = await MetricsScrape.ReadAsync(app.Host);
        Assert.True(1 == Delta(afterFirst, afterSecond, "disabled"), afterSecond.Text);
        Assert.Equal(0, Delta(afterFirst, afterSecond, "created"));
    }

    private static double Delta(MetricsScrape before, MetricsScrape after, string change) =>
        after.Sum("scaikey_federation_sync_users_total", ("provider_type", "LDAP"), ("change", change))
        - before.Sum("scaikey_federation_sync_users_total", ("provider_type", "LDAP"), ("change", change));

    private static string Person(string uid, string baseDn, string ou) => $"""
        dn: uid={uid},{baseDn}
        objectClass: inetOrgPerson
        uid: {uid}
        cn: {uid} Sync
        givenName: {uid}
        sn: Sync
        mail: {uid}@{ou}.example.org
        userPassword: Directory-Secret-42!
        """;

    private async Task<JsonNode> SyncAsync(string tenant, string provider)
    {
        using var admin = await app.AdminAsync();
        var job = (await (await admin.PostAsync($"/api/v1/tenants/{tenant}/identity-providers/{provider}/sync", null)).ReadJsonAsync(202))["data"]!;
        for (var i = 0; i < 600; i++)
        {
            var current = (await (await admin.GetAsync($"/api/v1/tenants/{tenant}/identity-providers/{provider}/sync-jobs/{job["id"]}")).ReadJsonAsync(200))["data"]!;
            if (current["status"]!.GetValue<string>() != "RUNNING")
            {
                return current;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the sync job did not finish within a minute");
    }
}
