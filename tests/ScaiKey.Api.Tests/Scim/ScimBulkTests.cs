using System.Text.Json.Nodes;

namespace ScaiKey.Api.Tests.Scim;

/// <summary>/scim/v2/Bulk: bulkId references, maxOperations and maxPayloadSize enforced, failOnErrors.</summary>
public sealed class ScimBulkTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static JsonObject Bulk(JsonArray operations, int? failOnErrors = null)
    {
        var body = new JsonObject { ["schemas"] = new JsonArray("urn:ietf:params:scim:api:messages:2.0:BulkRequest"), ["Operations"] = operations };
        if (failOnErrors is not null)
        {
            body["failOnErrors"] = failOnErrors;
        }

        return body;
    }

    private static JsonObject Post(string path, string bulkId, object data) => new()
    {
        ["method"] = "POST", ["path"] = path, ["bulkId"] = bulkId, ["data"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(data)),
    };

    [Fact]
    public async Task A_group_created_in_the_same_request_takes_users_by_bulkId()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var response = await scim.SendAsync(HttpMethod.Post, "/scim/v2/Bulk", Bulk(
            [
                Post("/Users", "u1", ScimKit.NewUser($"b1.{Guid.NewGuid():N}@example.com")),
                Post("/Users", "u2", ScimKit.NewUser($"b2.{Guid.NewGuid():N}@example.com")),
                Post("/Groups", "g1", new { schemas = new[] { ScimKit.GroupSchema }, displayName = "Bulk team", members = new[] { new { value = "bulkId:u1" }, new { value = "bulkId:u2" } } }),
                Post("/Groups", "g2", new { displayName = "Unknown", members = new[] { new { value = "bulkId:nope" } } }),
            ]));
            var result = await response.ReadJsonAsync(200);
            var ops = result["Operations"]!.AsArray();
            Assert.Equal(["201", "201", "201", "409"], ops.Select(o => o!["status"]!.GetValue<string>()));
            var groupLocation = ops[2]!["location"]!.GetValue<string>();
            var group = await (await scim.GetAsync(new Uri(groupLocation).AbsolutePath)).ReadJsonAsync(200);
            Assert.Equal(2, group["members"]!.AsArray().Count);
            Assert.NotNull(ops[3]!["response"]!["detail"]);
        }
    }

    [Fact]
    public async Task Too_many_operations_and_too_large_payloads_are_413_and_change_nothing()
    {
        var (tenant, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var many = new JsonArray(Enumerable.Range(0, 1001).Select(i => (JsonNode)Post("/Users", "b" + i, ScimKit.NewUser($"m{i}.{Guid.NewGuid():N}@example.com"))).ToArray());
            await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Bulk", Bulk(many))).ReadScimErrorAsync(413, "tooMany");

            var large = Bulk([Post("/Users", "big", new { userName = new string('x', 1024 * 1024) })]);
            await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Bulk", large)).ReadScimErrorAsync(413, "tooLarge");
            var list = await (await scim.GetAsync("/scim/v2/Users")).ReadJsonAsync(200);
            Assert.Equal(0, list["totalResults"]!.GetValue<int>());

            // Control: the advertised limits.
            var config = await (await scim.GetAsync("/scim/v2/ServiceProviderConfig")).ReadJsonAsync(200);
            Assert.Equal(1000, config["bulk"]!["maxOperations"]!.GetValue<int>());
            Assert.Equal(1024 * 1024, config["bulk"]!["maxPayloadSize"]!.GetValue<int>());
        }
    }

    [Fact]
    public async Task FailOnErrors_stops_after_that_many_errors()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var result = await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Bulk", Bulk(
            [
                Post("/Users", "bad", new { userName = "no email" }),
                Post("/Users", "good", ScimKit.NewUser($"g.{Guid.NewGuid():N}@example.com")),
            ], failOnErrors: 1))).ReadJsonAsync(200);
            var ops = result["Operations"]!.AsArray();
            Assert.Single(ops);
            Assert.Equal("400", ops[0]!["status"]!.GetValue<string>());
            Assert.Equal(0, (await (await scim.GetAsync("/scim/v2/Users")).ReadJsonAsync(200))["totalResults"]!.GetValue<int>());
        }
    }
}
