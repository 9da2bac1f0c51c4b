using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests.Scim;

/// <summary>/scim/v2/Users on the directory: the Users API's rules, statuses, delete, extensions kept, ETags, audit.</summary>
public sealed class ScimUserTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task A_created_user_is_a_scim_user_of_the_tokens_tenant_rendered_with_etag_and_audited_as_the_token()
    {
        var (tenant, tokenId, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var userName = $"Ada.{Guid.NewGuid():N}@Example.com";
            var response = await scim.SendAsync(HttpMethod.Post, "/scim/v2/Users", ScimKit.NewUser(userName, externalId: "ext-1"));
            var created = await response.ReadJsonAsync(201);
            Assert.Equal("application/scim+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(created["meta"]!["location"]!.GetValue<string>(), response.Headers.Location!.ToString());
            Assert.Equal(created["meta"]!["version"]!.GetValue<string>(), response.Headers.ETag!.ToString());
            Assert.StartsWith("W/\"", response.Headers.ETag!.ToString());
            Assert.Equal(userName, created["userName"]!.GetValue<string>());
            Assert.Equal("ext-1", created["externalId"]!.GetValue<string>());
            Assert.True(created["active"]!.GetValue<bool>());
            Assert.Equal("Test", created["name"]!["givenName"]!.GetValue<string>());

            var stored = await app.DbAsync(db => db.Users.SingleAsync(u => u.Id == created.Id()));
            Assert.Equal(tenant, stored.TenantId);
            Assert.Equal(IdentitySource.Scim, stored.IdentitySource);
            Assert.Equal(UserStatus.Active, stored.Status);
            Assert.Equal("ext-1", stored.ExternalId);
            Assert.Null(stored.PasswordHash);
            Assert.Empty(await app.DbAsync(db => db.EmailOutbox.Where(m => m.TenantId == tenant).ToListAsync()));

            var audit = await app.DbAsync(db => db.AuditEvents.SingleAsync(e => e.TargetId == created.Id() && e.Action == "user.created"));
            Assert.Equal("SCIM_TOKEN", audit.ActorType);
            Assert.Equal(tokenId, audit.ActorId);

            var read = await scim.GetAsync($"/scim/v2/Users/{created.Id()}");
            Assert.Equal(created.ToJsonString(), (await read.ReadJsonAsync(200)).ToJsonString());
            Assert.Equal(response.Headers.ETag, read.Headers.ETag);
        }
    }

    [Fact]
    public async Task Duplicates_are_409_uniqueness_with_the_users_api_rules()
    {
        var (tenant, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var email = $"dup.{Guid.NewGuid():N}@example.com";
            await app.CreateUserIdAsync(tenant, email);
            await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Users", ScimKit.NewUser("someone-else", email.ToUpperInvariant()))).ReadScimErrorAsync(409, "uniqueness");

            var first = await ScimKit.CreateUserAsync(scim);
            await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Users",
                ScimKit.NewUser(first["userName"]!.GetValue<string>().ToUpperInvariant(), $"other.{Guid.NewGuid():N}@example.com"))).ReadScimErrorAsync(409, "uniqueness");

            // Field rules of the Users API: an address it refuses is refused here too.
            await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Users", ScimKit.NewUser("no-email-user", "not-an-address"))).ReadScimErrorAsync(400, "invalidValue");
            await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Users", ScimKit.NewUser("has space@example.com"))).ReadScimErrorAsync(400, "invalidValue");
            await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Users", "{not json")).ReadScimErrorAsync(400, "invalidSyntax");
            await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Users", new { schemas = new[] { ScimKit.UserSchema } })).ReadScimErrorAsync(400, "invalidValue");
        }
    }

    [Fact]
    public async Task Unmodelled_attributes_and_extensions_are_kept_under_their_urn_and_rendered_back()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var body = (JsonObject)ScimKit.NewUser($"ext.{Guid.NewGuid():N}@example.com");
            body["title"] = "Engineer";
            body["addresses"] = new JsonArray(new JsonObject { ["type"] = "work", ["locality"] = "Berlin" });
            body["schemas"]!.AsArray().Add(ScimKit.EnterpriseSchema);
            body[ScimKit.EnterpriseSchema] = new JsonObject
            {
                ["employeeNumber"] = "701984", ["department"] = "Tour Operations", ["manager"] = new JsonObject { ["value"] = "boss-id" },
            };
            body["urn:example:custom:1.0:User"] = new JsonObject { ["badge"] = 42 };
            var created = await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Users", body)).ReadJsonAsync(201);
            var read = await (await scim.GetAsync($"/scim/v2/Users/{created.Id()}")).ReadJsonAsync(200);
            Assert.Equal("Engineer", read["title"]!.GetValue<string>());
            Assert.Equal("Berlin", read["addresses"]![0]!["locality"]!.GetValue<string>());
            Assert.Equal("701984", read[ScimKit.EnterpriseSchema]!["employeeNumber"]!.GetValue<string>());
            Assert.Equal("boss-id", read[ScimKit.EnterpriseSchema]!["manager"]!["value"]!.GetValue<string>());
            Assert.Equal(42, read["urn:example:custom:1.0:User"]!["badge"]!.GetValue<int>());
            Assert.Contains(ScimKit.EnterpriseSchema, read["schemas"]!.AsArray().Select(s => s!.GetValue<string>()));

            var custom = JsonNode.Parse((await app.DbAsync(db => db.Users.SingleAsync(u => u.Id == created.Id()))).CustomAttributesJson!)!;
            Assert.Equal("Engineer", custom[ScimKit.UserSchema]!["title"]!.GetValue<string>());
            Assert.Equal("Tour Operations", custom[ScimKit.EnterpriseSchema]!["department"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Put_replaces_and_a_stale_if_match_is_412()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var created = await ScimKit.CreateUserAsync(scim);
            var path = $"/scim/v2/Users/{created.Id()}";
            var body = (JsonObject)ScimKit.NewUser(created["userName"]!.GetValue<string>());
            body["displayName"] = "Renamed";
            await (await scim.SendAsync(HttpMethod.Put, path, body, "W/\"999\"")).ReadScimErrorAsync(412);

            var response = await scim.SendAsync(HttpMethod.Put, path, body, created["meta"]!["version"]!.GetValue<string>());
            var replaced = await response.ReadJsonAsync(200);
            Assert.Equal("Renamed", replaced["displayName"]!.GetValue<string>());
            Assert.NotEqual(created["meta"]!["version"]!.GetValue<string>(), replaced["meta"]!["version"]!.GetValue<string>());
            Assert.Equal(replaced["meta"]!["version"]!.GetValue<string>(), response.Headers.ETag!.ToString());
        }
    }

    [Fact]
    public async Task Active_false_disables_the_user_and_ends_its_sessions_and_true_enables_it_again()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var created = await ScimKit.CreateUserAsync(scim);
            var body = (JsonObject)ScimKit.NewUser(created["userName"]!.GetValue<string>(), active: false);
            var disabled = await (await scim.SendAsync(HttpMethod.Put, $"/scim/v2/Users/{created.Id()}", body)).ReadJsonAsync(200);
            Assert.False(disabled["active"]!.GetValue<bool>());
            var stored = await app.DbAsync(db => db.Users.SingleAsync(u => u.Id == created.Id()));
            Assert.Equal(UserStatus.Disabled, stored.Status);
            Assert.NotNull(stored.TokensRevokedAt);
            Assert.Contains("user.status_changed", await app.DbAsync(db => db.AuditEvents.Where(e => e.TargetId == created.Id()).Select(e => e.Action).ToListAsync()));

            body["active"] = true;
            await (await scim.SendAsync(HttpMethod.Put, $"/scim/v2/Users/{created.Id()}", body)).ShouldBeAsync(200);
            Assert.Equal(UserStatus.Active, await app.DbAsync(db => db.Users.Where(u => u.Id == created.Id()).Select(u => u.Status).SingleAsync()));
        }
    }

    [Fact]
    public async Task Delete_soft_deletes_as_the_users_api_does()
    {
        var (tenant, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var created = await ScimKit.CreateUserAsync(scim);
            var group = await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Groups", new
            {
                schemas = new[] { ScimKit.GroupSchema }, displayName = "Team", members = new[] { new { value = created.Id() } },
            })).ReadJsonAsync(201);
            Assert.Single(group["members"]!.AsArray());

            await (await scim.SendAsync(HttpMethod.Delete, $"/scim/v2/Users/{created.Id()}", ifMatch: "W/\"999\"")).ReadScimErrorAsync(412);
            var deleted = await scim.SendAsync(HttpMethod.Delete, $"/scim/v2/Users/{created.Id()}");
            await deleted.ShouldBeAsync(204);
            Assert.NotNull(await app.DbAsync(db => db.Users.Where(u => u.Id == created.Id()).Select(u => u.DeletedAt).SingleAsync()));
            Assert.False(await app.DbAsync(db => db.GroupMembers.AnyAsync(m => m.UserId == created.Id())));
            await (await scim.GetAsync($"/scim/v2/Users/{created.Id()}")).ReadScimErrorAsync(404);
            using var admin = await app.AdminAsync();
            await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{created.Id()}")).ReadProblemAsync(404);
            Assert.Equal("SCIM_TOKEN", await app.DbAsync(db => db.AuditEvents.Where(e => e.TargetId == created.Id() && e.Action == "user.deleted").Select(e => e.ActorType).SingleAsync()));
        }
    }

    [Fact]
    public async Task A_password_goes_through_the_tenants_policy_and_the_hasher()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var weak = (JsonObject)ScimKit.NewUser($"pw.{Guid.NewGuid():N}@example.com");
            weak["password"] = "short";
            await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Users", weak)).ReadScimErrorAsync(400, "invalidValue");

            var strong = (JsonObject)ScimKit.NewUser($"pw.{Guid.NewGuid():N}@example.com");
            strong["password"] = "Quartz-Lantern-93!";
            var created = await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Users", strong)).ReadJsonAsync(201);
            Assert.Null(created["password"]);
            var hash = await app.DbAsync(db => db.Users.Where(u => u.Id == created.Id()).Select(u => u.PasswordHash).SingleAsync());
            Assert.NotNull(hash);
            Assert.DoesNotContain("Quartz", hash);
        }
    }

    [Fact]
    public async Task A_platform_admin_in_the_tenant_cannot_be_changed_by_a_provisioning_token()
    {
        var (tenant, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var target = await ScimKit.CreateUserAsync(scim);
            var control = await ScimKit.CreateUserAsync(scim);
            using var admin = await app.AdminAsync();
            await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments", new { principal_type = "USER", principal_id = target.Id(), role = "PLATFORM_ADMIN" })).ShouldBeAsync(201);
            await (await scim.SendAsync(HttpMethod.Delete, $"/scim/v2/Users/{target.Id()}")).ReadScimErrorAsync(403);
            await (await scim.SendAsync(HttpMethod.Delete, $"/scim/v2/Users/{control.Id()}")).ShouldBeAsync(204);
        }
    }

    [Fact]
    public async Task A_tenant_admin_of_the_same_tenant_cannot_be_changed_by_a_provisioning_token()
    {
        // Attacker's review, finding 1: a token outlives its maker; another admin's email or password is a takeover.
        var (tenant, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var target = await ScimKit.CreateUserAsync(scim);
            var control = await ScimKit.CreateUserAsync(scim);
            using var admin = await app.AdminAsync();
            await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments",
                new { principal_type = "USER", principal_id = target.Id(), role = "TENANT_ADMIN", tenant_id = tenant })).ShouldBeAsync(201);
            var patch = ScimKit.Patch(new JsonObject { ["op"] = "replace", ["path"] = "emails[type eq \"work\"].value", ["value"] = "taken@attacker.example" });
            await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Users/{target.Id()}", patch)).ReadScimErrorAsync(403);
            await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Users/{control.Id()}", patch)).ShouldBeAsync(200);
        }
    }

    [Fact]
    public async Task Duplicate_keys_and_too_many_patch_operations_are_400_not_500()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var user = await ScimKit.CreateUserAsync(scim);
            using var duplicate = new HttpRequestMessage(HttpMethod.Post, "/scim/v2/Users")
            {
                Content = new StringContent("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@example.com","userName":"b@example.com"}""",
                    System.Text.Encoding.UTF8, "application/scim+json"),
            };
            await (await scim.SendAsync(duplicate)).ReadScimErrorAsync(400, "invalidSyntax");

            static JsonObject[] Operations(int count) => [.. Enumerable.Range(0, count)
                .Select(i => new JsonObject { ["op"] = "replace", ["path"] = "displayName", ["value"] = "n" + i })];
            await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Users/{user.Id()}", ScimKit.Patch(Operations(1001)))).ReadScimErrorAsync(400, "invalidValue");
            await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Users/{user.Id()}", ScimKit.Patch(Operations(1000)))).ShouldBeAsync(200); // control
        }
    }

    [Fact]
    public async Task A_group_renamed_by_patch_beyond_200_characters_is_400_not_500()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var group = await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Groups", new JsonObject
            {
                ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"), ["displayName"] = "Long names",
            })).ReadJsonAsync(201);
            var tooLong = ScimKit.Patch(new JsonObject { ["op"] = "replace", ["path"] = "displayName", ["value"] = new string('g', 201) });
            await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Groups/{group.Id()}", tooLong)).ReadScimErrorAsync(400, "invalidValue");
            var longest = ScimKit.Patch(new JsonObject { ["op"] = "replace", ["path"] = "displayName", ["value"] = new string('g', 200) });
            await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Groups/{group.Id()}", longest)).ShouldBeAsync(204);
        }
    }

    [Fact]
    public async Task A_password_for_a_federated_user_is_refused_unless_the_tenants_federation_policy_allows_one_and_never_for_ldap()
    {
        var (tenant, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var oidc = (await ScimKit.CreateUserAsync(scim)).Id();
            var ldap = (await ScimKit.CreateUserAsync(scim)).Id();
            await app.DbAsync(db => db.Users.Where(u => u.Id == oidc).ExecuteUpdateAsync(x => x.SetProperty(u => u.IdentitySource, IdentitySource.Oidc)));
            await app.DbAsync(db => db.Users.Where(u => u.Id == ldap).ExecuteUpdateAsync(x => x.SetProperty(u => u.IdentitySource, IdentitySource.Ldap)));
            var setPassword = ScimKit.Patch(new JsonObject { ["op"] = "replace", ["path"] = "password", ["value"] = "Scim-Federated-2026!" });

            foreach (var id in new[] { oidc, ldap })
            {
                var refused = await (await scim.SendAsync(new HttpMethod("PATCH"), $"/scim/v2/Users/{id}", setPassword)).ReadScimErrorAsync(400, "invalidValue");
                Assert.Contains("allow_local_passwords", refused["detail"]!.GetValue<string>(), StringComparison.Ordinal);
                Assert.Null(await app.DbAsync(db => db.Users.Where(u => u.Id == id).Select(u => u.PasswordHash).SingleAsync()));
            }

            using var admin = await app.AdminAsync();
            await (await admin.PatchAsJsonAsync($"/api/v1/admin/tenants/{tenant}", new { settings = new { federation_policy = new { allow_local_passwords = true } } }))
                .ShouldBeAsync(200);

            // Allowed now for the OIDC user; an LDAP user's password stays the directory's.
            await (await scim.SendAsync(new HttpMethod("PATCH"), $"/scim/v2/Users/{oidc}", setPassword)).ReadJsonAsync(200);
            Assert.NotNull(await app.DbAsync(db => db.Users.Where(u => u.Id == oidc).Select(u => u.PasswordHash).SingleAsync()));
            await (await scim.SendAsync(new HttpMethod("PATCH"), $"/scim/v2/Users/{ldap}", setPassword)).ReadScimErrorAsync(400, "invalidValue");
        }
    }
}
