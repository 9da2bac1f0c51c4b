using System.Globalization;

namespace ScaiKey.Api.Tests;

/// <summary>The surrounding API a platform admin uses: partners, tenants, OUs, groups and the audit trail.</summary>
public sealed class DirectoryManagementTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static string Unique(string prefix) => prefix + " " + Guid.NewGuid().ToString("N")[..8];

    private static string Id(JsonNode json) => json["data"]!["id"]!.GetValue<string>();

    private static List<string> IdsOf(JsonNode page, string key = "id") => page["data"]!.AsArray().Select(u => u![key]!.GetValue<string>()).ToList();

    private static async Task<List<string>> LocsAsync(HttpResponseMessage response) =>
        (await response.ReadValidationErrorsAsync()).Select(e => e.Split('|')[0]).ToList();

    // ---- partners ----

    [Fact]
    public async Task Partner_create_get_list_rename_and_delete()
    {
        using var admin = await app.AdminAsync();
        var name = Unique("Reseller");
        var created = await (await admin.PostAsJsonAsync("/api/v1/admin/partners", new { name })).ReadJsonAsync(201);
        var id = Id(created);
        Assert.Equal(name, created["data"]!["name"]!.GetValue<string>());
        Assert.NotNull(created["data"]!["created_at"]);

        var got = await (await admin.GetAsync($"/api/v1/admin/partners/{id}")).ReadJsonAsync(200);
        Assert.Equal(name, got["data"]!["name"]!.GetValue<string>());

        var list = await (await admin.GetAsync("/api/v1/admin/partners?per_page=100")).ReadJsonAsync(200);
        Assert.Contains(id, IdsOf(list));
        Assert.NotNull(list["pagination"]!["total_items"]);

        var renamed = Unique("Renamed");
        var patched = await (await admin.PatchAsJsonAsync($"/api/v1/admin/partners/{id}", new { name = renamed })).ReadJsonAsync(200);
        Assert.Equal(renamed, patched["data"]!["name"]!.GetValue<string>());
        Assert.NotNull(patched["data"]!["updated_at"]);
        Assert.Equal(renamed, (await (await admin.GetAsync($"/api/v1/admin/partners/{id}")).ReadJsonAsync(200))["data"]!["name"]!.GetValue<string>());

        await (await admin.DeleteAsync($"/api/v1/admin/partners/{id}")).ShouldBeAsync(204);
        await (await admin.GetAsync($"/api/v1/admin/partners/{id}")).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"/api/v1/admin/partners/{id}")).ReadProblemAsync(404);
        await (await admin.PatchAsJsonAsync($"/api/v1/admin/partners/{id}", new { name = Unique("Ghost") })).ReadProblemAsync(404);
    }

    [Fact]
    public async Task Partner_names_are_unique()
    {
        using var admin = await app.AdminAsync();
        var name = Unique("Dup Partner");
        await (await admin.PostAsJsonAsync("/api/v1/admin/partners", new { name })).ShouldBeAsync(201);
        await (await admin.PostAsJsonAsync("/api/v1/admin/partners", new { name })).ReadProblemAsync(409);

        var other = await app.CreateAsync("/api/v1/admin/partners", new { name = Unique("Other Partner") });
        await (await admin.PatchAsJsonAsync($"/api/v1/admin/partners/{other}", new { name })).ReadProblemAsync(409);
    }

    [Fact]
    public async Task Partner_body_is_validated()
    {
        using var admin = await app.AdminAsync();
        Assert.Equal(["body.name|missing"], await (await admin.PostAsJsonAsync("/api/v1/admin/partners", new { })).ReadValidationErrorsAsync());
        Assert.Equal(["body.name|string_too_short"], await (await admin.PostAsJsonAsync("/api/v1/admin/partners", new { name = "  " })).ReadValidationErrorsAsync());
        Assert.Contains("body.colour|extra_forbidden",
            await (await admin.PostAsJsonAsync("/api/v1/admin/partners", new { name = Unique("X"), colour = "red" })).ReadValidationErrorsAsync());
    }

    [Fact]
    public async Task Partner_with_tenants_cannot_be_deleted_until_they_are_gone()
    {
        using var admin = await app.AdminAsync();
        var partner = await app.CreateAsync("/api/v1/admin/partners", new { name = Unique("Busy Partner") });
        var tenant = await app.CreateTenantAsync(partnerId: partner);

        await (await admin.DeleteAsync($"/api/v1/admin/partners/{partner}")).ReadProblemAsync(409);
        await (await admin.GetAsync($"/api/v1/admin/partners/{partner}")).ShouldBeAsync(200);

        await (await admin.DeleteAsync($"/api/v1/admin/tenants/{tenant}")).ShouldBeAsync(204);
        await (await admin.DeleteAsync($"/api/v1/admin/partners/{partner}")).ShouldBeAsync(204);
        await (await admin.GetAsync($"/api/v1/admin/partners/{partner}")).ReadProblemAsync(404);
    }

    // ---- tenants ----

    [Fact]
    public async Task Tenant_slug_is_derived_from_the_name()
    {
        using var admin = await app.AdminAsync();
        var acme = await (await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = "Acme Corp" })).ReadJsonAsync(201);
        Assert.Equal("acme-corp", acme["data"]!["slug"]!.GetValue<string>());
        Assert.Equal("Acme Corp", acme["data"]!["name"]!.GetValue<string>());
        Assert.Null(acme["data"]!["partner_id"]);
        Assert.NotNull(acme["data"]!["settings"]);

        var accents = await (await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = "  Café Müller & Söhne!  " })).ReadJsonAsync(201);
        Assert.Equal("cafe-muller-sohne", accents["data"]!["slug"]!.GetValue<string>());

        var got = await (await admin.GetAsync($"/api/v1/admin/tenants/{Id(acme)}")).ReadJsonAsync(200);
        Assert.Equal("acme-corp", got["data"]!["slug"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tenant_explicit_slug_is_validated_and_unique()
    {
        using var admin = await app.AdminAsync();
        var slug = "tenant-" + Guid.NewGuid().ToString("N")[..8];
        var created = await (await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = "Whatever Name", slug })).ReadJsonAsync(201);
        Assert.Equal(slug, created["data"]!["slug"]!.GetValue<string>());

        Assert.Equal(["body.slug"], await LocsAsync(await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = "Bad", slug = "Bad Slug" })));
        Assert.Equal(["body.slug"], await LocsAsync(await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = "Bad", slug = "-edge-" })));
        var tooLong = await LocsAsync(await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = "Bad", slug = new string('a', 64) }));
        Assert.NotEmpty(tooLong);
        Assert.All(tooLong, loc => Assert.Equal("body.slug", loc));

        await (await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = "Another Name", slug })).ReadProblemAsync(409);

        // A derived slug that clashes is a 409 too.
        var name = Unique("Clash Co");
        await (await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name })).ShouldBeAsync(201);
        await (await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name })).ReadProblemAsync(409);

        // Renaming onto a used slug is a 409.
        var other = await app.CreateTenantAsync();
        await (await admin.PatchAsJsonAsync($"/api/v1/admin/tenants/{other}", new { slug })).ReadProblemAsync(409);
        Assert.Equal(["body.slug"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/admin/tenants/{other}", new { slug = "UPPER" })));
    }

    [Fact]
    public async Task Tenant_body_is_validated()
    {
        using var admin = await app.AdminAsync();
        Assert.Contains("body.name|missing", await (await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { slug = "no-name-here" })).ReadValidationErrorsAsync());
        Assert.Contains("body.id|extra_forbidden", await (await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = Unique("X"), id = "mine" })).ReadValidationErrorsAsync());
        Assert.Equal(["body.partner_id"], await LocsAsync(await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = Unique("Orphan"), partner_id = Guid.NewGuid().ToString() })));
        var tenant = await app.CreateTenantAsync();
        Assert.Equal(["body.partner_id"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/admin/tenants/{tenant}", new { partner_id = Guid.NewGuid().ToString() })));
        Assert.Null((await (await admin.GetAsync($"/api/v1/admin/tenants/{tenant}")).ReadJsonAsync(200))["data"]!["partner_id"]);
    }

    [Fact]
    public async Task Tenant_settings_are_merged_on_patch()
    {
        using var admin = await app.AdminAsync();
        var created = await (await admin.PostAsJsonAsync("/api/v1/admin/tenants", new
        {
            name = Unique("Settings Co"),
            settings = new { password_policy = new { min_length = 14 }, require_approval = true },
        })).ReadJsonAsync(201);
        var id = Id(created);
        var settings = created["data"]!["settings"]!;
        Assert.Equal(14, settings["password_policy"]!["min_length"]!.GetValue<int>());
        Assert.Equal(256, settings["password_policy"]!["max_length"]!.GetValue<int>());
        Assert.True(settings["require_approval"]!.GetValue<bool>());
        Assert.Equal(5, settings["lockout_policy"]!["max_failed_attempts"]!.GetValue<int>());
        Assert.Equal(15, settings["lockout_policy"]!["lockout_duration_minutes"]!.GetValue<int>());
        var name = created["data"]!["name"]!.GetValue<string>();

        var patched = await (await admin.PatchAsJsonAsync($"/api/v1/admin/tenants/{id}", new
        {
            settings = new { lockout_policy = new { max_failed_attempts = 3 } },
        })).ReadJsonAsync(200);
        settings = patched["data"]!["settings"]!;
        Assert.Equal(3, settings["lockout_policy"]!["max_failed_attempts"]!.GetValue<int>());
        Assert.Equal(15, settings["lockout_policy"]!["lockout_duration_minutes"]!.GetValue<int>());
        Assert.Equal(14, settings["password_policy"]!["min_length"]!.GetValue<int>());
        Assert.True(settings["require_approval"]!.GetValue<bool>());
        Assert.Equal(name, patched["data"]!["name"]!.GetValue<string>());

        // Within a nested policy too: only the given field changes.
        await (await admin.PatchAsJsonAsync($"/api/v1/admin/tenants/{id}", new { settings = new { password_policy = new { max_length = 100 } } })).ShouldBeAsync(200);
        var got = (await (await admin.GetAsync($"/api/v1/admin/tenants/{id}")).ReadJsonAsync(200))["data"]!;
        Assert.Equal(14, got["settings"]!["password_policy"]!["min_length"]!.GetValue<int>());
        Assert.Equal(100, got["settings"]!["password_policy"]!["max_length"]!.GetValue<int>());
        Assert.Equal(3, got["settings"]!["lockout_policy"]!["max_failed_attempts"]!.GetValue<int>());
        Assert.True(got["settings"]!["require_approval"]!.GetValue<bool>());

        // A name-only patch leaves the settings alone.
        var renamed = Unique("Renamed Co");
        got = (await (await admin.PatchAsJsonAsync($"/api/v1/admin/tenants/{id}", new { name = renamed })).ReadJsonAsync(200))["data"]!;
        Assert.Equal(renamed, got["name"]!.GetValue<string>());
        Assert.Equal(14, got["settings"]!["password_policy"]!["min_length"]!.GetValue<int>());
        Assert.Equal(created["data"]!["slug"]!.GetValue<string>(), got["slug"]!.GetValue<string>());
    }

    [Fact]
    public async Task Invalid_settings_are_422_with_nested_locations()
    {
        using var admin = await app.AdminAsync();
        var response = await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = Unique("Weak"), settings = new { password_policy = new { min_length = 3 } } });
        var json = await response.ReadJsonAsync(422);
        var error = Assert.Single(json["detail"]!.AsArray())!;
        Assert.Equal(["body", "settings", "password_policy", "min_length"], error["loc"]!.AsArray().Select(l => l!.GetValue<string>()));

        var unknown = await (await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = Unique("Odd"), settings = new { colour = "red" } })).ReadValidationErrorsAsync();
        Assert.Equal(["body.settings.colour|extra_forbidden"], unknown);

        var nestedUnknown = await (await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = Unique("Odd"), settings = new { lockout_policy = new { forever = true } } })).ReadValidationErrorsAsync();
        Assert.Equal(["body.settings.lockout_policy.forever|extra_forbidden"], nestedUnknown);

        // On PATCH as well, all errors at once, and nothing is stored.
        var tenant = await app.CreateTenantAsync();
        var locs = await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/admin/tenants/{tenant}", new
        {
            settings = new { password_policy = new { min_length = 3 }, colour = "red" },
        }));
        Assert.Equal(["body.settings.colour", "body.settings.password_policy.min_length"], locs.Order());
        var stored = (await (await admin.GetAsync($"/api/v1/admin/tenants/{tenant}")).ReadJsonAsync(200))["data"]!;
        Assert.Equal(12, stored["settings"]!["password_policy"]!["min_length"]!.GetValue<int>());
    }

    [Fact]
    public async Task Tenant_with_users_cannot_be_deleted_and_a_deleted_tenant_is_gone()
    {
        using var admin = await app.AdminAsync();
        var slug = "doomed-" + Guid.NewGuid().ToString("N")[..8];
        var tenant = Id(await (await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = "Doomed", slug })).ReadJsonAsync(201));
        var user = await app.CreateUserIdAsync(tenant, "last.one@example.com");

        await (await admin.DeleteAsync($"/api/v1/admin/tenants/{tenant}")).ReadProblemAsync(409);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ShouldBeAsync(200);

        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{user}?confirm_email=last.one@example.com")).ShouldBeAsync(204);
        await (await admin.DeleteAsync($"/api/v1/admin/tenants/{tenant}")).ShouldBeAsync(204);

        await (await admin.GetAsync($"/api/v1/admin/tenants/{tenant}")).ReadProblemAsync(404);
        await (await admin.PatchAsJsonAsync($"/api/v1/admin/tenants/{tenant}", new { name = "Zombie" })).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"/api/v1/admin/tenants/{tenant}")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users")).ReadProblemAsync(404);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users", new { email = "new@example.com" })).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/ous")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events")).ReadProblemAsync(404);
        Assert.DoesNotContain(tenant, IdsOf(await (await admin.GetAsync("/api/v1/admin/tenants?per_page=100")).ReadJsonAsync(200)));

        // Its slug is free again.
        await (await admin.PostAsJsonAsync("/api/v1/admin/tenants", new { name = "Reborn", slug })).ShouldBeAsync(201);
    }

    [Fact]
    public async Task Tenant_list_filters_by_partner()
    {
        using var admin = await app.AdminAsync();
        var partner = await app.CreateAsync("/api/v1/admin/partners", new { name = Unique("Filter Partner") });
        var inside = await app.CreateTenantAsync(partnerId: partner);
        var alsoInside = await app.CreateTenantAsync(partnerId: partner);
        var outside = await app.CreateTenantAsync();

        var list = await (await admin.GetAsync($"/api/v1/admin/tenants?partner_id={partner}")).ReadJsonAsync(200);
        Assert.Equal(new[] { inside, alsoInside }.Order(), IdsOf(list).Order());
        Assert.Equal(2, list["pagination"]!["total_items"]!.GetValue<int>());
        Assert.All(list["data"]!.AsArray(), t => Assert.Equal(partner, t!["partner_id"]!.GetValue<string>()));

        var all = IdsOf(await (await admin.GetAsync("/api/v1/admin/tenants?per_page=100")).ReadJsonAsync(200));
        Assert.Contains(outside, all);

        // Moving a tenant out of the partner.
        await (await admin.PatchAsJsonAsync($"/api/v1/admin/tenants/{alsoInside}", new { partner_id = (string?)null })).ShouldBeAsync(200);
        Assert.Equal([inside], IdsOf(await (await admin.GetAsync($"/api/v1/admin/tenants?partner_id={partner}")).ReadJsonAsync(200)));
    }

    // ---- organizational units ----

    private static Task<HttpResponseMessage> CreateOuAsync(HttpClient admin, string tenant, string name, string? parent = null) =>
        admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/ous", new { name, parent_id = parent });

    private static async Task<string> PathOfAsync(HttpClient admin, string tenant, string ou) =>
        (await (await admin.GetAsync($"/api/v1/tenants/{tenant}/ous/{ou}")).ReadJsonAsync(200))["data"]!["path"]!.GetValue<string>();

    [Fact]
    public async Task Ou_create_builds_the_path_from_the_root()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var sales = await (await CreateOuAsync(admin, tenant, "Sales")).ReadJsonAsync(201);
        Assert.Equal("/Sales", sales["data"]!["path"]!.GetValue<string>());
        Assert.Null(sales["data"]!["parent_id"]);
        var emea = await (await CreateOuAsync(admin, tenant, "EMEA", Id(sales))).ReadJsonAsync(201);
        Assert.Equal("/Sales/EMEA", emea["data"]!["path"]!.GetValue<string>());
        Assert.Equal(Id(sales), emea["data"]!["parent_id"]!.GetValue<string>());
        Assert.Equal("EMEA", emea["data"]!["name"]!.GetValue<string>());
        Assert.Equal("/Sales/EMEA", await PathOfAsync(admin, tenant, Id(emea)));

        var list = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/ous")).ReadJsonAsync(200);
        Assert.Equal(["/Sales", "/Sales/EMEA"], list["data"]!.AsArray().Select(o => o!["path"]!.GetValue<string>()));
        Assert.Equal(2, list["pagination"]!["total_items"]!.GetValue<int>());

        Assert.Equal(["body.parent_id"], await LocsAsync(await CreateOuAsync(admin, tenant, "Orphan", Guid.NewGuid().ToString())));
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/ous/{Guid.NewGuid()}")).ReadProblemAsync(404);
    }

    [Fact]
    public async Task Ou_rename_and_move_rewrite_the_paths_of_the_whole_subtree()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var sales = Id(await (await CreateOuAsync(admin, tenant, "Sales")).ReadJsonAsync(201));
        var emea = Id(await (await CreateOuAsync(admin, tenant, "EMEA", sales)).ReadJsonAsync(201));
        var berlin = Id(await (await CreateOuAsync(admin, tenant, "Berlin", emea)).ReadJsonAsync(201));
        var support = Id(await (await CreateOuAsync(admin, tenant, "Support")).ReadJsonAsync(201));

        var renamed = await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{sales}", new { name = "Revenue" })).ReadJsonAsync(200);
        Assert.Equal("/Revenue", renamed["data"]!["path"]!.GetValue<string>());
        Assert.Equal("/Revenue/EMEA", await PathOfAsync(admin, tenant, emea));
        Assert.Equal("/Revenue/EMEA/Berlin", await PathOfAsync(admin, tenant, berlin));

        var moved = await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{emea}", new { parent_id = support })).ReadJsonAsync(200);
        Assert.Equal("/Support/EMEA", moved["data"]!["path"]!.GetValue<string>());
        Assert.Equal(support, moved["data"]!["parent_id"]!.GetValue<string>());
        Assert.Equal("/Support/EMEA/Berlin", await PathOfAsync(admin, tenant, berlin));
        Assert.Equal("/Revenue", await PathOfAsync(admin, tenant, sales));

        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{emea}", new { parent_id = (string?)null, name = "Europe" })).ShouldBeAsync(200);
        Assert.Equal("/Europe", await PathOfAsync(admin, tenant, emea));
        Assert.Equal("/Europe/Berlin", await PathOfAsync(admin, tenant, berlin));

        var list = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/ous")).ReadJsonAsync(200);
        Assert.Equal(["/Europe", "/Europe/Berlin", "/Revenue", "/Support"], list["data"]!.AsArray().Select(o => o!["path"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Ou_cannot_move_below_itself_or_its_descendants()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var top = Id(await (await CreateOuAsync(admin, tenant, "Top")).ReadJsonAsync(201));
        var mid = Id(await (await CreateOuAsync(admin, tenant, "Mid", top)).ReadJsonAsync(201));
        var leaf = Id(await (await CreateOuAsync(admin, tenant, "Leaf", mid)).ReadJsonAsync(201));

        Assert.Equal(["body.parent_id"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{top}", new { parent_id = top })));
        Assert.Equal(["body.parent_id"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{top}", new { parent_id = mid })));
        Assert.Equal(["body.parent_id"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{top}", new { parent_id = leaf })));
        Assert.Equal(["body.parent_id"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{mid}", new { parent_id = Guid.NewGuid().ToString() })));

        Assert.Equal("/Top", await PathOfAsync(admin, tenant, top));
        Assert.Equal("/Top/Mid/Leaf", await PathOfAsync(admin, tenant, leaf));
    }

    [Fact]
    public async Task Ou_sibling_names_are_unique_and_names_cannot_contain_a_slash()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var sales = Id(await (await CreateOuAsync(admin, tenant, "Sales")).ReadJsonAsync(201));
        var support = Id(await (await CreateOuAsync(admin, tenant, "Support")).ReadJsonAsync(201));
        await (await CreateOuAsync(admin, tenant, "Sales")).ReadProblemAsync(409);
        await (await CreateOuAsync(admin, tenant, "EMEA", sales)).ShouldBeAsync(201);
        await (await CreateOuAsync(admin, tenant, "EMEA", sales)).ReadProblemAsync(409);
        var supportEmea = Id(await (await CreateOuAsync(admin, tenant, "EMEA", support)).ReadJsonAsync(201)); // same name, other parent

        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{support}", new { name = "Sales" })).ReadProblemAsync(409);
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{supportEmea}", new { parent_id = sales })).ReadProblemAsync(409);
        Assert.Equal("/Support", await PathOfAsync(admin, tenant, support));
        Assert.Equal("/Support/EMEA", await PathOfAsync(admin, tenant, supportEmea));

        Assert.Equal(["body.name"], await LocsAsync(await CreateOuAsync(admin, tenant, "Sales/EMEA")));
        Assert.Equal(["body.name"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{support}", new { name = "A/B" })));
        Assert.Equal(["body.name"], await LocsAsync(await CreateOuAsync(admin, tenant, "   ")));
    }

    [Fact]
    public async Task Ou_with_children_or_users_cannot_be_deleted()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var parent = Id(await (await CreateOuAsync(admin, tenant, "Parent")).ReadJsonAsync(201));
        var child = Id(await (await CreateOuAsync(admin, tenant, "Child", parent)).ReadJsonAsync(201));
        var user = (await app.CreateUserAsync(tenant, new { email = "resident@example.com", ou_id = child }))["id"]!.GetValue<string>();

        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/ous/{parent}")).ReadProblemAsync(409);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/ous/{child}")).ReadProblemAsync(409);

        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}", new { ou_id = (string?)null })).ShouldBeAsync(200);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/ous/{child}")).ShouldBeAsync(204);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/ous/{child}")).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/ous/{child}")).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/ous/{parent}")).ShouldBeAsync(204);
    }

    [Fact]
    public async Task Ou_whose_only_user_was_deleted_can_be_deleted()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var ou = Id(await (await CreateOuAsync(admin, tenant, "Closing")).ReadJsonAsync(201));
        var user = (await app.CreateUserAsync(tenant, new { email = "leaver@example.com", ou_id = ou }))["id"]!.GetValue<string>();
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{user}?confirm_email=leaver@example.com")).ShouldBeAsync(204);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/ous/{ou}")).ShouldBeAsync(204);
    }

    // ---- groups ----

    private static Task<HttpResponseMessage> CreateGroupAsync(HttpClient admin, string tenant, string name, string? parent = null, string? description = null) =>
        admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups", new { name, description, parent_group_id = parent });

    [Fact]
    public async Task Group_create_get_patch_list_and_delete()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var created = await (await CreateGroupAsync(admin, tenant, "Engineers", description: "Everyone who builds")).ReadJsonAsync(201);
        var id = Id(created);
        Assert.Equal("Engineers", created["data"]!["name"]!.GetValue<string>());
        Assert.Equal("Everyone who builds", created["data"]!["description"]!.GetValue<string>());
        Assert.Null(created["data"]!["parent_group_id"]);

        var got = (await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups/{id}")).ReadJsonAsync(200))["data"]!;
        Assert.Equal(id, got["id"]!.GetValue<string>());
        Assert.Equal("Engineers", got["name"]!.GetValue<string>());
        Assert.Equal("Everyone who builds", got["description"]!.GetValue<string>());
        Assert.Null(got["parent_group_id"]);
        Assert.NotNull(got["created_at"]);

        var patched = await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{id}", new { description = "Builders" })).ReadJsonAsync(200);
        Assert.Equal("Engineers", patched["data"]!["name"]!.GetValue<string>());
        Assert.Equal("Builders", patched["data"]!["description"]!.GetValue<string>());
        patched = await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{id}", new { name = "Engineering" })).ReadJsonAsync(200);
        Assert.Equal("Engineering", patched["data"]!["name"]!.GetValue<string>());
        Assert.Equal("Builders", patched["data"]!["description"]!.GetValue<string>());

        await (await CreateGroupAsync(admin, tenant, "Marketing")).ShouldBeAsync(201);
        var list = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups")).ReadJsonAsync(200);
        Assert.Equal(["Engineering", "Marketing"], list["data"]!.AsArray().Select(g => g!["name"]!.GetValue<string>()));

        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/groups/{id}")).ShouldBeAsync(204);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups/{id}")).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/groups/{id}")).ReadProblemAsync(404);
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{id}", new { name = "Ghost" })).ReadProblemAsync(404);
    }

    [Fact]
    public async Task Group_names_are_unique_in_a_tenant()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        await (await CreateGroupAsync(admin, tenant, "Finance")).ShouldBeAsync(201);
        await (await CreateGroupAsync(admin, tenant, "Finance")).ReadProblemAsync(409);
        var other = Id(await (await CreateGroupAsync(admin, tenant, "Legal")).ReadJsonAsync(201));
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{other}", new { name = "Finance" })).ReadProblemAsync(409);

        // Another tenant may reuse the name.
        var second = await app.CreateTenantAsync();
        await (await CreateGroupAsync(admin, second, "Finance")).ShouldBeAsync(201);
    }

    [Fact]
    public async Task Groups_nest_and_cycles_are_refused()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var top = Id(await (await CreateGroupAsync(admin, tenant, "Top")).ReadJsonAsync(201));
        var mid = await (await CreateGroupAsync(admin, tenant, "Mid", top)).ReadJsonAsync(201);
        Assert.Equal(top, mid["data"]!["parent_group_id"]!.GetValue<string>());
        var leaf = Id(await (await CreateGroupAsync(admin, tenant, "Leaf", Id(mid))).ReadJsonAsync(201));

        Assert.Equal(["body.parent_group_id"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{top}", new { parent_group_id = leaf })));
        Assert.Equal(["body.parent_group_id"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{top}", new { parent_group_id = top })));
        Assert.Equal(["body.parent_group_id"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{top}", new { parent_group_id = Id(mid) })));
        Assert.Equal(["body.parent_group_id"], await LocsAsync(await CreateGroupAsync(admin, tenant, "Orphan", Guid.NewGuid().ToString())));
        Assert.Null((await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups/{top}")).ReadJsonAsync(200))["data"]!["parent_group_id"]);

        // Re-parenting without a cycle works, and un-nesting with null.
        var moved = await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{leaf}", new { parent_group_id = top })).ReadJsonAsync(200);
        Assert.Equal(top, moved["data"]!["parent_group_id"]!.GetValue<string>());
        moved = await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{leaf}", new { parent_group_id = (string?)null })).ReadJsonAsync(200);
        Assert.Null(moved["data"]!["parent_group_id"]);
    }

    [Fact]
    public async Task Group_members_are_added_listed_with_membership_type_and_removed()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var parent = Id(await (await CreateGroupAsync(admin, tenant, "Parent")).ReadJsonAsync(201));
        var child = Id(await (await CreateGroupAsync(admin, tenant, "Child", parent)).ReadJsonAsync(201));
        var anna = await app.CreateUserIdAsync(tenant, "anna@example.com");
        var bert = await app.CreateUserIdAsync(tenant, "bert@example.com");
        var cleo = await app.CreateUserIdAsync(tenant, "cleo@example.com");

        var added = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{parent}/members", new { user_ids = new[] { anna, bert } })).ReadJsonAsync(200);
        Assert.Equal(new[] { anna, bert }.Order(), added["data"]!["added"]!.AsArray().Select(i => i!.GetValue<string>()).Order());
        Assert.Empty(added["data"]!["already_members"]!.AsArray());

        var again = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{parent}/members", new { user_ids = new[] { anna } })).ReadJsonAsync(200);
        Assert.Empty(again["data"]!["added"]!.AsArray());
        Assert.Equal([anna], again["data"]!["already_members"]!.AsArray().Select(i => i!.GetValue<string>()));

        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{child}/members", new { user_ids = new[] { cleo, bert } })).ShouldBeAsync(200);

        var members = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups/{parent}/members")).ReadJsonAsync(200);
        Assert.Equal(3, members["pagination"]!["total_items"]!.GetValue<int>());
        var byId = members["data"]!.AsArray().ToDictionary(m => m!["user_id"]!.GetValue<string>(), m => m!);
        Assert.Equal("DIRECT", byId[anna]["membership_type"]!.GetValue<string>());
        Assert.Equal("DIRECT", byId[bert]["membership_type"]!.GetValue<string>()); // direct wins over inherited
        Assert.Equal("INHERITED", byId[cleo]["membership_type"]!.GetValue<string>());
        Assert.Equal("anna@example.com", byId[anna]["email"]!.GetValue<string>());

        var childMembers = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups/{child}/members")).ReadJsonAsync(200);
        Assert.All(childMembers["data"]!.AsArray(), m => Assert.Equal("DIRECT", m!["membership_type"]!.GetValue<string>()));
        Assert.Equal(new[] { bert, cleo }.Order(), IdsOf(childMembers, "user_id").Order());

        var paged = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups/{parent}/members?per_page=2&page=2")).ReadJsonAsync(200);
        Assert.Single(paged["data"]!.AsArray());
        Assert.Equal(2, paged["pagination"]!["total_pages"]!.GetValue<int>());

        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/groups/{parent}/members/{anna}")).ShouldBeAsync(204);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/groups/{parent}/members/{anna}")).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/groups/{parent}/members/{cleo}")).ReadProblemAsync(404); // inherited, not direct
        var after = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups/{parent}/members")).ReadJsonAsync(200);
        Assert.Equal(new[] { bert, cleo }.Order(), IdsOf(after, "user_id").Order());
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups/{Guid.NewGuid()}/members")).ReadProblemAsync(404);
    }

    [Fact]
    public async Task Adding_unknown_users_is_422_on_their_index_and_adds_nobody()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var group = Id(await (await CreateGroupAsync(admin, tenant, "Strict")).ReadJsonAsync(201));
        var real = await app.CreateUserIdAsync(tenant);
        var deleted = await app.CreateUserIdAsync(tenant, "deleted.member@example.com");
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{deleted}?confirm_email=deleted.member@example.com")).ShouldBeAsync(204);

        var locs = await LocsAsync(await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{group}/members",
            new { user_ids = new[] { real, Guid.NewGuid().ToString(), deleted } }));
        Assert.Equal(["body.user_ids.1", "body.user_ids.2"], locs);

        var members = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups/{group}/members")).ReadJsonAsync(200);
        Assert.Empty(members["data"]!.AsArray());

        Assert.Contains("body.user_ids|missing", await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{group}/members", new { })).ReadValidationErrorsAsync());
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{Guid.NewGuid()}/members", new { user_ids = new[] { real } })).ReadProblemAsync(404);
    }

    [Fact]
    public async Task Group_with_a_child_cannot_be_deleted_and_deleting_a_group_drops_its_memberships()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var parent = Id(await (await CreateGroupAsync(admin, tenant, "Parent")).ReadJsonAsync(201));
        var child = Id(await (await CreateGroupAsync(admin, tenant, "Child", parent)).ReadJsonAsync(201));
        var user = (await app.CreateUserAsync(tenant, new { email = "member@example.com", group_ids = new[] { child } }))["id"]!.GetValue<string>();

        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/groups/{parent}")).ReadProblemAsync(409);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups/{parent}")).ShouldBeAsync(200);

        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/groups/{child}")).ShouldBeAsync(204);
        var userJson = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ReadJsonAsync(200);
        Assert.Empty(userJson["data"]!["groups"]!.AsArray());
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/groups/{parent}")).ShouldBeAsync(204);
    }

    // ---- every directory resource ----

    [Fact]
    public async Task Write_responses_carry_the_timestamps_that_later_reads_return()
    {
        // A resource's created_at / updated_at is one instant: the value in the 201/200 of a write must be the one
        // every later GET returns (not a more precise in-memory value that the database then truncates).
        using var admin = await app.AdminAsync();
        var tenant = await app.CreateTenantAsync();
        var mismatches = new List<string>();
        foreach (var (createPath, body, getPath, patch) in new (string, object, Func<string, string>, object)[]
        {
            ("/api/v1/admin/partners", new { name = Unique("Stamp Partner") }, id => $"/api/v1/admin/partners/{id}", new { name = Unique("Stamp Partner") }),
            ("/api/v1/admin/tenants", new { name = Unique("Stamp Tenant") }, id => $"/api/v1/admin/tenants/{id}", new { name = Unique("Stamp Tenant") }),
            ($"/api/v1/tenants/{tenant}/ous", new { name = "Stamp OU" }, id => $"/api/v1/tenants/{tenant}/ous/{id}", new { name = "Stamp OU 2" }),
            ($"/api/v1/tenants/{tenant}/groups", new { name = "Stamp Group" }, id => $"/api/v1/tenants/{tenant}/groups/{id}", new { name = "Stamp Group 2" }),
            ($"/api/v1/tenants/{tenant}/users", new { email = "stamp@example.com" }, id => $"/api/v1/tenants/{tenant}/users/{id}", new { display_name = "Stamp" }),
        })
        {
            var created = (await (await admin.PostAsJsonAsync(createPath, body)).ReadJsonAsync(201))["data"]!;
            var path = getPath(created["id"]!.GetValue<string>());
            var got = (await (await admin.GetAsync(path)).ReadJsonAsync(200))["data"]!;
            var createdAt = created["created_at"]!.GetValue<string>();
            if (createdAt != got["created_at"]!.GetValue<string>())
            {
                mismatches.Add($"POST {createPath}: created_at {createdAt} in the 201, {got["created_at"]} on GET");
            }

            var patched = (await (await admin.PatchAsJsonAsync(path, patch)).ReadJsonAsync(200))["data"]!;
            got = (await (await admin.GetAsync(path)).ReadJsonAsync(200))["data"]!;
            var updatedAt = patched["updated_at"]!.GetValue<string>();
            if (updatedAt != got["updated_at"]!.GetValue<string>())
            {
                mismatches.Add($"PATCH {path}: updated_at {updatedAt} in the 200, {got["updated_at"]} on GET");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    // ---- audit ----

    [Fact]
    public async Task Audit_events_filter_by_action_target_and_since()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var user = await app.CreateUserIdAsync(tenant, "audited@example.com");
        var other = await app.CreateUserIdAsync(tenant, "bystander@example.com");
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}", new { display_name = "Audited" })).ShouldBeAsync(200);

        using var statusRequest = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/tenants/{tenant}/users/{user}/status")
        {
            Content = JsonContent.Create(new { status = "DISABLED", reason = "audit test" }),
        };
        statusRequest.Headers.Add("X-Request-ID", "audit-req-0042");
        await (await admin.SendAsync(statusRequest)).ShouldBeAsync(200);

        var forUser = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?target_id={user}")).ReadJsonAsync(200);
        var actions = forUser["data"]!.AsArray().Select(e => e!["action"]!.GetValue<string>()).ToList();
        Assert.Equal(["user.status_changed", "user.updated", "user.created"], actions); // newest first
        Assert.All(forUser["data"]!.AsArray(), e =>
        {
            Assert.Equal(user, e!["target_id"]!.GetValue<string>());
            Assert.Equal(tenant, e["tenant_id"]!.GetValue<string>());
            Assert.Equal(ScaiKeyApp.AdminClientId, e["actor_id"]!.GetValue<string>());
        });

        var updated = Assert.Single((await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?action=user.updated")).ReadJsonAsync(200))["data"]!.AsArray())!;
        Assert.Equal(user, updated["target_id"]!.GetValue<string>());
        Assert.Equal(["display_name"], updated["changes"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.DoesNotContain("Audited", updated.ToJsonString(), StringComparison.Ordinal); // names, never values

        var status = forUser["data"]![0]!;
        Assert.Equal("audit-req-0042", status["request_id"]!.GetValue<string>());
        Assert.Equal("audit test", status["reason"]!.GetValue<string>());

        var created = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?action=user.created")).ReadJsonAsync(200);
        Assert.Equal(new[] { user, other }.Order(), IdsOf(created, "target_id").Order());
        Assert.Equal([other], IdsOf(await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?action=user.created&target_id={other}")).ReadJsonAsync(200), "target_id"));
        Assert.Empty((await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?action=no.such.action")).ReadJsonAsync(200))["data"]!.AsArray());

        // since: events at or after the update, so the two creates drop out.
        var since = updated["created_at"]!.GetValue<string>();
        var recent = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?since={Uri.EscapeDataString(since)}")).ReadJsonAsync(200);
        Assert.Equal(["user.status_changed", "user.updated"], recent["data"]!.AsArray().Select(e => e!["action"]!.GetValue<string>()));
        var future = DateTime.UtcNow.AddHours(1).ToString("O", CultureInfo.InvariantCulture);
        Assert.Empty((await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?since={Uri.EscapeDataString(future)}")).ReadJsonAsync(200))["data"]!.AsArray());

        Assert.Equal(["query.since"], await LocsAsync(await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?since=yesterday-ish")));

        // actor_id: who did it.
        var byActor = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?actor_id={ScaiKeyApp.AdminClientId}&target_id={user}")).ReadJsonAsync(200);
        Assert.Equal(3, byActor["data"]!.AsArray().Count);
        Assert.Empty((await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?actor_id=someone-else")).ReadJsonAsync(200))["data"]!.AsArray());
    }

    [Fact]
    public async Task Audit_events_paginate_newest_first()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        for (var i = 0; i < 5; i++)
        {
            await app.CreateUserIdAsync(tenant, $"paged{i}@example.com");
        }

        var all = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?action=user.created&per_page=100")).ReadJsonAsync(200);
        var expected = IdsOf(all);
        Assert.Equal(5, expected.Count);
        var times = all["data"]!.AsArray().Select(e => DateTimeOffset.Parse(e!["created_at"]!.GetValue<string>(), CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(times.OrderDescending(), times);

        var seen = new List<string>();
        for (var page = 1; page <= 3; page++)
        {
            var json = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?action=user.created&per_page=2&page={page}")).ReadJsonAsync(200);
            Assert.Equal(5, json["pagination"]!["total_items"]!.GetValue<int>());
            Assert.Equal(3, json["pagination"]!["total_pages"]!.GetValue<int>());
            seen.AddRange(IdsOf(json));
        }

        Assert.Equal(expected, seen);
        Assert.Equal(["query.per_page|less_than_equal"], await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?per_page=101")).ReadValidationErrorsAsync());
    }

    [Fact]
    public async Task Audit_events_of_other_tenants_never_appear()
    {
        var mine = await app.CreateTenantAsync();
        var theirs = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var myUser = await app.CreateUserIdAsync(mine, "same@example.com");
        var theirUser = await app.CreateUserIdAsync(theirs, "same@example.com");
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{theirs}/users/{theirUser}", new { first_name = "Theirs" })).ShouldBeAsync(200);
        var theirGroup = await app.CreateAsync($"/api/v1/tenants/{theirs}/groups", new { name = "Their group" });

        var events = await (await admin.GetAsync($"/api/v1/tenants/{mine}/audit-events?per_page=100")).ReadJsonAsync(200);
        Assert.All(events["data"]!.AsArray(), e => Assert.Equal(mine, e!["tenant_id"]!.GetValue<string>()));
        var targets = IdsOf(events, "target_id");
        Assert.Contains(myUser, targets);
        Assert.DoesNotContain(theirUser, targets);
        Assert.DoesNotContain(theirGroup, targets);
        Assert.DoesNotContain(theirs, targets);
        Assert.Empty((await (await admin.GetAsync($"/api/v1/tenants/{mine}/audit-events?target_id={theirUser}")).ReadJsonAsync(200))["data"]!.AsArray());
        Assert.Empty((await (await admin.GetAsync($"/api/v1/tenants/{mine}/audit-events?action=user.updated")).ReadJsonAsync(200))["data"]!.AsArray());
    }
}
