namespace ScaiKey.Api.Tests;

/// <summary>
/// The tenant API's ETag: a PATCH with If-Match made from an older read is refused (412) and changes nothing, so two
/// admins (or two console tabs) editing the same settings cannot overwrite each other unseen.
/// </summary>
public sealed class TenantETagTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Path = "/api/v1/admin/tenants";

    private static HttpRequestMessage Patch(string tenantId, object body, string? ifMatch)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, $"{Path}/{tenantId}") { Content = JsonContent.Create(body) };
        if (ifMatch is not null)
        {
            Assert.True(request.Headers.TryAddWithoutValidation("If-Match", ifMatch));
        }

        return request;
    }

    [Fact]
    public async Task A_patch_with_the_etag_of_an_older_read_is_412_and_changes_nothing()
    {
        var tenantId = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var read = await admin.GetAsync($"{Path}/{tenantId}");
        await read.ShouldBeAsync(200);
        var etag = read.Headers.ETag!.ToString();
        Assert.False(read.Headers.ETag.IsWeak);

        var first = await admin.SendAsync(Patch(tenantId, new { settings = new { lockout_policy = new { max_failed_attempts = 7 } } }, etag));
        await first.ShouldBeAsync(200);
        var newer = first.Headers.ETag!.ToString();
        Assert.NotEqual(etag, newer);

        var stale = await admin.SendAsync(Patch(tenantId, new { settings = new { lockout_policy = new { max_failed_attempts = 3 } } }, etag));
        await stale.ReadProblemAsync(412);
        var current = await admin.GetAsync($"{Path}/{tenantId}");
        var body = await current.ReadJsonAsync(200);
        Assert.Equal(7, body["data"]!["settings"]!["lockout_policy"]!["max_failed_attempts"]!.GetValue<int>());
        Assert.Equal(newer, current.Headers.ETag!.ToString());

        // Control: the current ETag, "*" and no If-Match at all are accepted.
        await (await admin.SendAsync(Patch(tenantId, new { name = "Renamed " + Guid.NewGuid().ToString("N")[..6] }, newer))).ShouldBeAsync(200);
        await (await admin.SendAsync(Patch(tenantId, new { name = "Again " + Guid.NewGuid().ToString("N")[..6] }, "*"))).ShouldBeAsync(200);
        await (await admin.SendAsync(Patch(tenantId, new { name = "Plain " + Guid.NewGuid().ToString("N")[..6] }, null))).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Of_two_concurrent_patches_made_from_the_same_read_exactly_one_lands()
    {
        var tenantId = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var etag = (await admin.GetAsync($"{Path}/{tenantId}")).Headers.ETag!.ToString();

        for (var round = 0; round < 5; round++)
        {
            // Values no earlier round set: a PATCH that changes nothing is a 200 with nothing to claim.
            var answers = await Task.WhenAll(
                admin.SendAsync(Patch(tenantId, new { settings = new { lockout_policy = new { max_failed_attempts = 20 + (2 * round) } } }, etag)),
                admin.SendAsync(Patch(tenantId, new { settings = new { lockout_policy = new { max_failed_attempts = 21 + (2 * round) } } }, etag)));
            var statuses = answers.Select(a => (int)a.StatusCode).Order().ToList();
            Assert.True(statuses.SequenceEqual([200, 412]), $"round {round}: {string.Join(", ", statuses)}\n{await answers[0].Content.ReadAsStringAsync()}\n{await answers[1].Content.ReadAsStringAsync()}");
            etag = answers.Single(a => a.IsSuccessStatusCode).Headers.ETag!.ToString();
        }
    }
}
