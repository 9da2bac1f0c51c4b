using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using ScaiKey.Api.OAuth;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// A tenant's applications (OAuth clients): registration rules, secrets, assignments, effective users, and what an
/// application's own token may read (platform.md, "Who may do what" and "Surrounding API").
/// </summary>
public sealed class ApplicationTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string WebCallback = "https://app.example.com/callback";

    private static string Id(JsonNode json) => json["data"]!["id"]!.GetValue<string>();

    private static List<string> IdsOf(JsonNode page, string key = "id") => page["data"]!.AsArray().Select(u => u![key]!.GetValue<string>()).ToList();

    private static List<string> Strings(JsonNode? array) => array!.AsArray().Select(s => s!.GetValue<string>()).ToList();

    private static async Task<List<string>> LocsAsync(HttpResponseMessage response) =>
        (await response.ReadValidationErrorsAsync()).Select(e => e.Split('|')[0]).ToList();

    private static string Apps(string tenant) => $"/api/v1/tenants/{tenant}/applications";

    private static Task<HttpResponseMessage> CreateAppAsync(HttpClient admin, string tenant, object body) => admin.PostAsJsonAsync(Apps(tenant), body);

    private async Task<JsonNode> CreateAppDataAsync(string tenant, object body)
    {
        using var admin = await app.AdminAsync();
        return (await (await CreateAppAsync(admin, tenant, body)).ReadJsonAsync(201))["data"]!;
    }

    /// <summary>A SERVICE application: its id, client id and secret.</summary>
    private async Task<(string Id, string ClientId, string Secret)> CreateServiceAsync(string tenant, string name = "Billing sync")
    {
        var data = await CreateAppDataAsync(tenant, new { name, type = "SERVICE" });
        return (data["id"]!.GetValue<string>(), data["client_id"]!.GetValue<string>(), data["client_secret"]!.GetValue<string>());
    }

    private async Task AssignAsync(string tenant, string applicationId, object body)
    {
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"{Apps(tenant)}/{applicationId}/assignments", body)).ShouldBeAsync(201);
    }

    private async Task AddMembersAsync(string tenant, string groupId, params string[] userIds)
    {
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{groupId}/members", new { user_ids = userIds })).ShouldBeAsync(200);
    }

    /// <summary>A client_credentials request that may fail (the fixture's helper asserts success).</summary>
    private async Task<HttpResponseMessage> RequestTokenAsync(string clientId, string secret)
    {
        using var client = app.Anonymous();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));
        return await client.SendAsync(request);
    }

    private async Task<OpenIddictApplicationDescriptor?> OpenIddictClientAsync(string clientId)
    {
        await using var scope = app.Host.Services.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var client = await manager.FindByClientIdAsync(clientId);
        if (client is null)
        {
            return null;
        }

        var descriptor = new OpenIddictApplicationDescriptor();
        await manager.PopulateAsync(descriptor, client);
        return descriptor;
    }

    private async Task<List<JsonNode>> AuditAsync(string tenant, string action)
    {
        using var admin = await app.AdminAsync();
        var page = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?action={action}&per_page=100")).ReadJsonAsync(200);
        return page["data"]!.AsArray().Select(e => e!).ToList();
    }

    /// <summary>A service client with exactly the given tenant role (set up directly, as role endpoints are not under test here).</summary>
    private async Task<HttpClient> ClientWithTenantRoleAsync(string role, string tenant)
    {
        var clientId = "it-client-" + Guid.NewGuid().ToString("N")[..12];
        var secret = "it-secret-" + Guid.NewGuid().ToString("N");
        await using (var scope = app.Host.Services.CreateAsyncScope())
        {
            var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            await manager.CreateAsync(Bootstrap.AdminClientDescriptor(clientId, secret, "Integration test client"));
        }

        await app.DbAsync(db =>
        {
            db.RoleAssignments.Add(new RoleAssignment
            {
                Id = Guid.CreateVersion7().ToString(),
                PrincipalType = "CLIENT",
                PrincipalId = clientId,
                Role = role,
                TenantId = tenant,
                CreatedAt = DateTime.UtcNow,
            });
            return db.SaveChangesAsync();
        });
        return app.WithToken(await app.GetTokenAsync(clientId, secret));
    }

    private Task<HttpResponseMessage> PasswordGrantAsync(string clientId, string scope) =>
        app.Anonymous().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["username"] = "account@example.com", ["password"] = OidcTestClient.Password,
            ["client_id"] = clientId, ["scope"] = scope,
        }));

    // ---- registration ----

    [Fact]
    public async Task Each_type_gets_its_default_grants_and_only_confidential_types_get_a_secret()
    {
        var tenant = await app.CreateTenantAsync();
        var service = await CreateAppDataAsync(tenant, new { name = "Nightly export", type = "SERVICE" });
        var web = await CreateAppDataAsync(tenant, new { name = "Portal", type = "WEB", redirect_uris = new[] { WebCallback } });
        var spa = await CreateAppDataAsync(tenant, new { name = "Dashboard", type = "SPA", redirect_uris = new[] { "https://dash.example.com/cb" } });
        var native = await CreateAppDataAsync(tenant, new { name = "Mobile", type = "NATIVE", redirect_uris = new[] { "com.example.mobile:/oauth2redirect" } });

        Assert.Equal(["client_credentials"], Strings(service["grant_types"]));
        Assert.Empty(service["redirect_uris"]!.AsArray());
        foreach (var data in new[] { web, spa, native })
        {
            Assert.Equal(["authorization_code", "refresh_token"], Strings(data["grant_types"]));
        }

        Assert.Equal(["confidential", "confidential", "public", "public"], new[] { service, web, spa, native }.Select(d => d["client_type"]!.GetValue<string>()));
        Assert.Equal(["SERVICE", "WEB", "SPA", "NATIVE"], new[] { service, web, spa, native }.Select(d => d["type"]!.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(service["client_secret"]!.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(web["client_secret"]!.GetValue<string>()));
        foreach (var data in new[] { spa, native })
        {
            Assert.True(data.AsObject().ContainsKey("client_secret"), data.ToJsonString());
            Assert.Null(data["client_secret"]);
        }

        foreach (var data in new[] { service, web, spa, native })
        {
            Assert.StartsWith("app_", data["client_id"]!.GetValue<string>());
            Assert.Equal(tenant, data["tenant_id"]!.GetValue<string>());
            Assert.NotNull(data["created_at"]);
            Assert.Null(data["updated_at"]);
        }

        Assert.Equal(4, new[] { service, web, spa, native }.Select(d => d["client_id"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal([WebCallback], Strings(web["redirect_uris"]));
        Assert.Equal(["com.example.mobile:/oauth2redirect"], Strings(native["redirect_uris"]));
    }

    [Fact]
    public async Task The_secret_is_shown_once_never_stored_in_clear_and_a_service_gets_a_token_with_it()
    {
        var tenant = await app.CreateTenantAsync();
        var (id, clientId, secret) = await CreateServiceAsync(tenant);
        using var admin = await app.AdminAsync();

        var got = await admin.GetAsync($"{Apps(tenant)}/{id}");
        var body = await got.Content.ReadAsStringAsync();
        var json = await got.ReadJsonAsync(200);
        Assert.False(json["data"]!.AsObject().ContainsKey("client_secret"), body);
        Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
        Assert.Equal(clientId, json["data"]!["client_id"]!.GetValue<string>());
        var list = await (await admin.GetAsync(Apps(tenant))).Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret, list, StringComparison.Ordinal);
        Assert.DoesNotContain("client_secret", list, StringComparison.Ordinal);

        var stored = await OpenIddictClientAsync(clientId);
        Assert.NotNull(stored);
        Assert.NotEqual(secret, stored.ClientSecret);
        Assert.DoesNotContain(secret, stored.ClientSecret ?? string.Empty, StringComparison.Ordinal);

        var token = await app.GetTokenAsync(clientId, secret);
        Assert.False(string.IsNullOrEmpty(token));
    }

    [Fact]
    public async Task Clients_are_registered_in_openiddict_with_the_permissions_of_their_grants_and_pkce()
    {
        var tenant = await app.CreateTenantAsync();
        var service = await CreateAppDataAsync(tenant, new { name = "Service", type = "SERVICE" });
        var spa = await CreateAppDataAsync(tenant, new { name = "Spa", type = "SPA", redirect_uris = new[] { "https://spa.example.com/cb", "http://localhost:5173/cb" } });
        var web = await CreateAppDataAsync(tenant, new { name = "Legacy", type = "WEB", grant_types = new[] { "password", "refresh_token", "client_credentials" } });

        var s = (await OpenIddictClientAsync(service["client_id"]!.GetValue<string>()))!;
        Assert.Equal("confidential", s.ClientType);
        Assert.Equal(["ept:token", "gt:client_credentials"], s.Permissions.Order());
        Assert.Empty(s.Requirements);
        Assert.Empty(s.RedirectUris);
        Assert.Equal("Service", s.DisplayName);

        var p = (await OpenIddictClientAsync(spa["client_id"]!.GetValue<string>()))!;
        Assert.Equal("public", p.ClientType);
        Assert.Null(p.ClientSecret);
        Assert.Equal(["ept:authorization", "ept:end_session", "ept:introspection", "ept:revocation", "ept:token", "gt:authorization_code", "gt:refresh_token", "rst:code", "scp:email", "scp:groups", "scp:profile"], p.Permissions.Order());
        Assert.Equal(["http://localhost:5173/cb", "https://spa.example.com/cb"], p.PostLogoutRedirectUris.Select(u => u.OriginalString).Order());
        Assert.Equal(["ft:pkce"], p.Requirements);
        Assert.Equal(["http://localhost:5173/cb", "https://spa.example.com/cb"], p.RedirectUris.Select(u => u.OriginalString).Order());

        var w = (await OpenIddictClientAsync(web["client_id"]!.GetValue<string>()))!;
        Assert.Equal(["client_credentials", "refresh_token", "password"], Strings(web["grant_types"]));
        Assert.Equal(["ept:introspection", "ept:revocation", "ept:token", "gt:client_credentials", "gt:password", "gt:refresh_token",
            "gt:urn:scaikey:params:oauth:grant-type:mfa-otp", "scp:email", "scp:groups", "scp:profile"], w.Permissions.Order(StringComparer.Ordinal));
        Assert.Empty(w.Requirements);

        // A public client cannot use client_credentials at the token endpoint.
        using var anonymous = app.Anonymous();
        var denied = await anonymous.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = spa["client_id"]!.GetValue<string>(),
        }));
        Assert.False(denied.IsSuccessStatusCode, await denied.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Redirect_uris_are_stored_as_given_without_exact_duplicates()
    {
        var tenant = await app.CreateTenantAsync();
        string[] uris =
        [
            "https://App.example.com/Callback?tenant=acme",
            "http://127.0.0.1:8400/cb",
            "https://App.example.com/Callback?tenant=acme",
            "http://[::1]:8400/cb",
            "HTTP://LOCALHOST:3000/cb",
        ];
        var web = await CreateAppDataAsync(tenant, new { name = "Spelled", type = "WEB", redirect_uris = uris });
        string[] expected = ["https://App.example.com/Callback?tenant=acme", "http://127.0.0.1:8400/cb", "http://[::1]:8400/cb", "HTTP://LOCALHOST:3000/cb"];
        Assert.Equal(expected, Strings(web["redirect_uris"]));
        var stored = (await OpenIddictClientAsync(web["client_id"]!.GetValue<string>()))!;
        Assert.Equal(expected.Order(), stored.RedirectUris.Select(u => u.OriginalString).Order());

        using var admin = await app.AdminAsync();
        var got = (await (await admin.GetAsync($"{Apps(tenant)}/{web["id"]}")).ReadJsonAsync(200))["data"]!;
        Assert.Equal(expected, Strings(got["redirect_uris"]));

        // Two spellings that OpenIddict would fold into one are refused rather than half-stored.
        Assert.Equal(["body.redirect_uris.1"], await LocsAsync(await CreateAppAsync(admin, tenant,
            new { name = "Folded", type = "WEB", redirect_uris = new[] { "https://app.example.com/cb", "https://APP.example.com/cb" } })));
    }

    [Fact]
    public async Task Invalid_registrations_are_422_on_the_exact_field()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        async Task<List<string>> Locs(object body) => await LocsAsync(await CreateAppAsync(admin, tenant, body));

        Assert.Equal(["body.name|missing", "body.type|missing"], await (await CreateAppAsync(admin, tenant, new { })).ReadValidationErrorsAsync());
        Assert.Equal(["body.type|enum"], await (await CreateAppAsync(admin, tenant, new { name = "Robot", type = "ROBOT" })).ReadValidationErrorsAsync());
        Assert.Equal(["body.name|string_too_short"], await (await CreateAppAsync(admin, tenant, new { name = "  ", type = "SERVICE" })).ReadValidationErrorsAsync());
        Assert.Equal(["body.client_secret|extra_forbidden"], await (await CreateAppAsync(admin, tenant,
            new { name = "Planted", type = "SERVICE", client_secret = "chosen-by-me" })).ReadValidationErrorsAsync());
        Assert.Equal(["body.grant_types.1|literal_error"], await (await CreateAppAsync(admin, tenant,
            new { name = "Implicit", type = "WEB", redirect_uris = new[] { WebCallback }, grant_types = new[] { "authorization_code", "implicit" } })).ReadValidationErrorsAsync());
        Assert.Equal(["body.grant_types|list_type"], await (await CreateAppAsync(admin, tenant,
            new { name = "Scalar", type = "SERVICE", grant_types = "client_credentials" })).ReadValidationErrorsAsync());

        // Grant rules.
        Assert.Equal(["body.grant_types"], await Locs(new { name = "Spa cc", type = "SPA", redirect_uris = new[] { WebCallback }, grant_types = new[] { "authorization_code", "client_credentials" } }));
        Assert.Equal(["body.grant_types"], await Locs(new { name = "Native cc", type = "NATIVE", grant_types = new[] { "client_credentials" } }));
        Assert.Equal(["body.grant_types"], await Locs(new { name = "Service code", type = "SERVICE", redirect_uris = new[] { WebCallback }, grant_types = new[] { "authorization_code" } }));
        Assert.Equal(["body.grant_types"], await Locs(new { name = "Service password", type = "SERVICE", grant_types = new[] { "client_credentials", "password" } }));
        Assert.Equal(["body.grant_types"], await Locs(new { name = "Refresh alone", type = "WEB", grant_types = new[] { "refresh_token" } }));
        Assert.Equal(["body.grant_types"], await Locs(new { name = "Refresh cc", type = "WEB", grant_types = new[] { "client_credentials", "refresh_token" } }));
        Assert.Equal(["body.grant_types"], await Locs(new { name = "Nothing", type = "WEB", grant_types = Array.Empty<string>() }));

        // authorization_code needs a redirect URI, and redirect URIs need authorization_code.
        Assert.Equal(["body.redirect_uris"], await Locs(new { name = "No redirect", type = "WEB" }));
        Assert.Equal(["body.redirect_uris"], await Locs(new { name = "Empty redirect", type = "SPA", redirect_uris = Array.Empty<string>() }));
        Assert.Equal(["body.redirect_uris"], await Locs(new { name = "Service redirect", type = "SERVICE", redirect_uris = new[] { WebCallback } }));

        // Each redirect URI, on its own index.
        foreach (var bad in new[]
        {
            "/callback", "callback", "https://app.example.com/cb#section", "https://app.example.com/cb#", "http://app.example.com/cb",
            "http://127.0.0.2/cb", "http://localhost.example.com/cb", "https://user:pw@app.example.com/cb", "http://localhost@evil.example.com/cb",
            "https://app.example.com/a b", "com.example.app:/cb", "javascript:alert(1)", "ftp://files.example.com/cb", string.Empty,
        })
        {
            var locs = await Locs(new { name = "Bad redirect", type = "WEB", redirect_uris = new[] { WebCallback, bad } });
            Assert.True(locs.SequenceEqual(["body.redirect_uris.1"]), $"{bad}: {string.Join(", ", locs)}");
        }

        Assert.Equal(["body.redirect_uris.0"], await Locs(new { name = "Native no dot", type = "NATIVE", redirect_uris = new[] { "myapp:/cb" } }));
        Assert.Equal(["body.redirect_uris.0"], await Locs(new { name = "Spa private", type = "SPA", redirect_uris = new[] { "com.example.app:/cb" } }));
        Assert.Equal(["body.redirect_uris|too_long"], await (await CreateAppAsync(admin, tenant, new
        {
            name = "Too many", type = "WEB", redirect_uris = Enumerable.Range(0, 21).Select(i => $"https://app.example.com/cb{i}").ToArray(),
        })).ReadValidationErrorsAsync());
        Assert.Equal(["body.redirect_uris.0|string_too_long"], await (await CreateAppAsync(admin, tenant, new
        {
            name = "Too long", type = "WEB", redirect_uris = new[] { "https://app.example.com/" + new string('a', 2000) },
        })).ReadValidationErrorsAsync());

        // The limits themselves are fine: 20 URIs, 2000 characters, loopback http, a NATIVE private-use scheme.
        await (await CreateAppAsync(admin, tenant, new
        {
            name = "Twenty", type = "WEB", redirect_uris = Enumerable.Range(0, 19).Select(i => $"https://app.example.com/cb{i}")
                .Append("https://app.example.com/" + new string('a', 2000 - "https://app.example.com/".Length)).ToArray(),
        })).ShouldBeAsync(201);
        await (await CreateAppAsync(admin, tenant, new
        {
            name = "Loopback", type = "NATIVE", redirect_uris = new[] { "http://localhost:3000/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb", "com.example.app://cb", "https://app.example.com/cb" },
        })).ShouldBeAsync(201);

        // Nothing of the refused registrations was written: every OpenIddict client of this tenant's kind has its row.
        var rows = await app.DbAsync(db => db.Applications.CountAsync(a => a.TenantId == tenant));
        Assert.Equal(2, rows);
        var clientIds = await app.DbAsync(db => db.Applications.Select(a => a.ClientId).ToListAsync());
        var orphans = await app.DbAsync(db => db.Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication>()
            .CountAsync(c => c.ClientId!.StartsWith("app_") && !clientIds.Contains(c.ClientId)));
        Assert.Equal(0, orphans);
    }

    [Fact]
    public async Task Redirect_uris_must_fit_the_stored_list_which_keeps_ampersands_unescaped()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        const string Prefix = "https://app.example.com/cb";
        static string Long(int i, int length) => (Prefix + i + "?").PadRight(length, 'a');

        // 20 URIs of 2000 characters each are within the per-URI limits but not within the 40,000-character list.
        var full = Enumerable.Range(0, 20).Select(i => Long(i, 2000)).ToArray();
        Assert.Equal(["body.redirect_uris|value_error"], await (await CreateAppAsync(admin, tenant, new { name = "Full", type = "WEB", redirect_uris = full })).ReadValidationErrorsAsync());

        // Ampersands are stored as themselves (not \u0026), so query-heavy URIs fit as long as their text does.
        var ampersands = Enumerable.Range(0, 20).Select(i => (Prefix + i + "?").PadRight(1900, '&')).ToArray();
        var created = await CreateAppDataAsync(tenant, new { name = "Queries", type = "WEB", redirect_uris = ampersands });
        Assert.Equal(ampersands, Strings(created["redirect_uris"]));
        var id = created["id"]!.GetValue<string>();
        var stored = await app.DbAsync(db => db.Applications.AsNoTracking().Where(a => a.Id == id).Select(a => a.RedirectUrisJson).SingleAsync());
        Assert.True(stored.Length <= 40_000, $"{stored.Length} characters");
        Assert.Contains("?&&&", stored, StringComparison.Ordinal);
        var got = await (await admin.GetAsync($"{Apps(tenant)}/{id}")).ReadJsonAsync(200);
        Assert.Equal(ampersands, Strings(got["data"]!["redirect_uris"]));

        // The same limit holds on PATCH, which changes nothing when refused.
        var path = $"{Apps(tenant)}/{id}";
        Assert.Equal(["body.redirect_uris|value_error"], await (await admin.PatchAsJsonAsync(path, new { redirect_uris = full })).ReadValidationErrorsAsync());
        Assert.Equal(ampersands, Strings((await (await admin.GetAsync(path)).ReadJsonAsync(200))["data"]!["redirect_uris"]));
        var nearlyFull = full.Take(19).ToArray();
        Assert.Equal(nearlyFull, Strings((await (await admin.PatchAsJsonAsync(path, new { redirect_uris = nearlyFull })).ReadJsonAsync(200))["data"]!["redirect_uris"]));
    }

    [Fact]
    public async Task Patch_checks_the_resulting_state_keeps_the_type_and_the_secret_and_a_no_op_writes_nothing()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var web = await CreateAppDataAsync(tenant, new { name = "Portal", type = "WEB", redirect_uris = new[] { WebCallback } });
        var id = web["id"]!.GetValue<string>();
        var clientId = web["client_id"]!.GetValue<string>();
        var secret = web["client_secret"]!.GetValue<string>();
        var path = $"{Apps(tenant)}/{id}";

        Assert.Equal(["body.type"], await LocsAsync(await admin.PatchAsJsonAsync(path, new { type = "SPA" })));
        Assert.Equal(["body.type"], await LocsAsync(await admin.PatchAsJsonAsync(path, new { type = "WEB" })));
        Assert.Equal(["body.redirect_uris"], await LocsAsync(await admin.PatchAsJsonAsync(path, new { redirect_uris = Array.Empty<string>() })));
        Assert.Equal(["body.redirect_uris"], await LocsAsync(await admin.PatchAsJsonAsync(path, new { grant_types = new[] { "client_credentials" } })));
        Assert.Equal(["body.grant_types"], await LocsAsync(await admin.PatchAsJsonAsync(path, new { grant_types = new[] { "refresh_token" }, redirect_uris = Array.Empty<string>() })));
        Assert.Equal(["body.redirect_uris.0"], await LocsAsync(await admin.PatchAsJsonAsync(path, new { redirect_uris = new[] { "http://app.example.com/cb" } })));
        Assert.Equal(["body.client_id|extra_forbidden"], await (await admin.PatchAsJsonAsync(path, new { client_id = "app_mine" })).ReadValidationErrorsAsync());
        Assert.Equal(["body.name|string_type"], await (await admin.PatchAsJsonAsync(path, new { name = (string?)null })).ReadValidationErrorsAsync());
        Assert.Empty(await AuditAsync(tenant, "application.updated"));

        // A real change: the response, the row and the OpenIddict client follow; the secret still works.
        var patched = (await (await admin.PatchAsJsonAsync(path, new
        {
            name = "Portal v2",
            redirect_uris = new[] { "https://portal.example.com/signin", "https://portal.example.com/signin" },
            grant_types = new[] { "refresh_token", "authorization_code", "client_credentials" },
        })).ReadJsonAsync(200))["data"]!;
        Assert.Equal("Portal v2", patched["name"]!.GetValue<string>());
        Assert.Equal(["https://portal.example.com/signin"], Strings(patched["redirect_uris"]));
        Assert.Equal(["client_credentials", "authorization_code", "refresh_token"], Strings(patched["grant_types"]));
        Assert.Equal("WEB", patched["type"]!.GetValue<string>());
        Assert.NotNull(patched["updated_at"]);
        var stored = (await OpenIddictClientAsync(clientId))!;
        Assert.Equal("Portal v2", stored.DisplayName);
        Assert.Contains("gt:client_credentials", stored.Permissions);
        Assert.Equal(["https://portal.example.com/signin"], stored.RedirectUris.Select(u => u.OriginalString));
        await app.GetTokenAsync(clientId, secret);

        var updated = Assert.Single(await AuditAsync(tenant, "application.updated"));
        Assert.Equal(["grant_types", "name", "redirect_uris"], Strings(updated["changes"]));
        Assert.Equal("application", updated["target_type"]!.GetValue<string>());

        // The same values again (grant types in another order, a duplicate URI) change nothing and write no event.
        var again = (await (await admin.PatchAsJsonAsync(path, new
        {
            name = "Portal v2",
            redirect_uris = new[] { "https://portal.example.com/signin" },
            grant_types = new[] { "authorization_code", "refresh_token", "client_credentials", "client_credentials" },
        })).ReadJsonAsync(200))["data"]!;
        Assert.Equal(patched["updated_at"]!.GetValue<string>(), again["updated_at"]!.GetValue<string>());
        await (await admin.PatchAsJsonAsync(path, new { })).ShouldBeAsync(200);
        Assert.Single(await AuditAsync(tenant, "application.updated"));

        // Dropping authorization_code with its redirect URIs together is consistent.
        var serviceLike = (await (await admin.PatchAsJsonAsync(path, new { grant_types = new[] { "client_credentials" }, redirect_uris = Array.Empty<string>() })).ReadJsonAsync(200))["data"]!;
        Assert.Empty(serviceLike["redirect_uris"]!.AsArray());
        Assert.Equal(["ept:token", "gt:client_credentials"], (await OpenIddictClientAsync(clientId))!.Permissions.Order());

        // A SERVICE application keeps its secret through a rename.
        var (serviceId, serviceClient, serviceSecret) = await CreateServiceAsync(tenant);
        await (await admin.PatchAsJsonAsync($"{Apps(tenant)}/{serviceId}", new { name = "Renamed service" })).ShouldBeAsync(200);
        await app.GetTokenAsync(serviceClient, serviceSecret);
        Assert.Equal(["body.grant_types"], await LocsAsync(await admin.PatchAsJsonAsync($"{Apps(tenant)}/{serviceId}", new { grant_types = new[] { "password" } })));
        await (await admin.PatchAsJsonAsync($"{Apps(tenant)}/{Guid.NewGuid()}", new { name = "Ghost" })).ReadProblemAsync(404);
    }

    [Fact]
    public async Task Sign_in_settings_default_from_first_party_are_in_every_response_and_patchable()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        static (bool, bool, bool) Settings(JsonNode data) =>
            (data["first_party"]!.GetValue<bool>(), data["consent_required"]!.GetValue<bool>(), data["assignment_required"]!.GetValue<bool>());

        var thirdParty = await CreateAppDataAsync(tenant, new { name = "Partner tool", type = "WEB", redirect_uris = new[] { WebCallback } });
        var own = await CreateAppDataAsync(tenant, new { name = "Own portal", type = "SPA", redirect_uris = new[] { WebCallback }, first_party = true });
        var explicitly = await CreateAppDataAsync(tenant, new
        {
            name = "Strict", type = "SPA", redirect_uris = new[] { WebCallback }, first_party = true, consent_required = true, assignment_required = true,
        });
        Assert.Equal((false, true, false), Settings(thirdParty));
        Assert.Equal((true, false, false), Settings(own));
        Assert.Equal((true, true, true), Settings(explicitly));

        var path = $"{Apps(tenant)}/{own["id"]}";
        Assert.Equal((true, false, false), Settings((await (await admin.GetAsync(path)).ReadJsonAsync(200))["data"]!));
        var listed = (await (await admin.GetAsync(Apps(tenant))).ReadJsonAsync(200))["data"]!.AsArray();
        Assert.All(listed, a => Assert.NotNull(a!["assignment_required"]));

        // PATCH changes only what it names: dropping first_party leaves consent_required as it was.
        var patched = (await (await admin.PatchAsJsonAsync(path, new { first_party = false })).ReadJsonAsync(200))["data"]!;
        Assert.Equal((false, false, false), Settings(patched));
        patched = (await (await admin.PatchAsJsonAsync(path, new { consent_required = true, assignment_required = true })).ReadJsonAsync(200))["data"]!;
        Assert.Equal((false, true, true), Settings(patched));
        var audit = (await AuditAsync(tenant, "application.updated")).Select(e => Strings(e["changes"])).ToList();
        Assert.Contains(audit, c => c.SequenceEqual(["first_party"]));
        Assert.Contains(audit, c => c.Order().SequenceEqual(["assignment_required", "consent_required"]));

        // Booleans only, on create and PATCH; null is not "absent".
        foreach (var field in new[] { "first_party", "consent_required", "assignment_required" })
        {
            Assert.Equal([$"body.{field}|bool_type"], await (await admin.PostAsync(Apps(tenant), HttpAssertions.Json(
                $$"""{"name": "Typed", "type": "SERVICE", "{{field}}": "yes"}"""))).ReadValidationErrorsAsync());
            Assert.Equal([$"body.{field}|bool_type"], await (await admin.PatchAsync(path, HttpAssertions.Json($$"""{"{{field}}": null}"""))).ReadValidationErrorsAsync());
        }

        Assert.Equal((false, true, true), Settings((await (await admin.GetAsync(path)).ReadJsonAsync(200))["data"]!));
    }

    [Fact]
    public async Task Only_first_party_applications_are_permitted_the_account_scope()
    {
        var client = await OidcTestClient.CreateAsync(app, firstParty: true, grantTypes: ["authorization_code", "password"]);
        await client.CreateUserAsync(app, "account@example.com");
        using var admin = await app.AdminAsync();
        var path = $"{Apps(client.TenantId)}/{client.ApplicationId}";
        Assert.Contains("scp:account", (await OpenIddictClientAsync(client.ClientId))!.Permissions);
        using var browser = client.Browser(app);
        var allowed = await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), scope: "openid account"));
        Assert.StartsWith($"/t/{client.Slug}/login?", allowed.Headers.Location!.OriginalString, StringComparison.Ordinal);

        // No longer first-party: the permission goes, and OpenIddict refuses the scope before any page (OpenIddict 7
        // says invalid_request, ID2051 "not allowed to use the specified scope", at both endpoints).
        await (await admin.PatchAsJsonAsync(path, new { first_party = false })).ShouldBeAsync(200);
        Assert.DoesNotContain("scp:account", (await OpenIddictClientAsync(client.ClientId))!.Permissions);
        var refused = await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), scope: "openid account"));
        var body = await refused.Content.ReadAsStringAsync();
        Assert.True(refused.StatusCode == System.Net.HttpStatusCode.BadRequest && refused.Headers.Location is null
            && body.Contains("error:invalid_request", StringComparison.Ordinal) && body.Contains("ID2051", StringComparison.Ordinal),
            $"{(int)refused.StatusCode} {refused.Headers.Location}\n{body}");
        var token = await (await PasswordGrantAsync(client.ClientId, "openid account")).ReadJsonAsync(400);
        Assert.Equal("invalid_request", token["error"]!.GetValue<string>());
        Assert.Contains("ID2051", token["error_uri"]!.GetValue<string>(), StringComparison.Ordinal);

        // First-party again: back, and the same token request succeeds.
        await (await admin.PatchAsJsonAsync(path, new { first_party = true })).ShouldBeAsync(200);
        Assert.Contains("scp:account", (await OpenIddictClientAsync(client.ClientId))!.Permissions);
        await (await PasswordGrantAsync(client.ClientId, "openid account")).ShouldBeAsync(200);

        // A service never gets it: it has no user whose account it could manage.
        var service = await CreateAppDataAsync(client.TenantId, new { name = "Own service", type = "SERVICE", first_party = true });
        Assert.DoesNotContain("scp:account", (await OpenIddictClientAsync(service["client_id"]!.GetValue<string>()))!.Permissions);
    }

    [Fact]
    public async Task Applications_list_is_paginated_ordered_by_name_and_searchable()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        foreach (var name in new[] { "gamma", "Alpha", "beta" })
        {
            await (await CreateAppAsync(admin, tenant, new { name, type = "SERVICE" })).ShouldBeAsync(201);
        }

        var all = await (await admin.GetAsync(Apps(tenant))).ReadJsonAsync(200);
        Assert.Equal(["Alpha", "beta", "gamma"], all["data"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()));
        Assert.Equal(3, all["pagination"]!["total_items"]!.GetValue<int>());

        var second = await (await admin.GetAsync($"{Apps(tenant)}?per_page=2&page=2")).ReadJsonAsync(200);
        Assert.Equal(["gamma"], second["data"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()));
        Assert.Equal(2, second["pagination"]!["total_pages"]!.GetValue<int>());

        var found = await (await admin.GetAsync($"{Apps(tenant)}?search=ALP")).ReadJsonAsync(200);
        Assert.Equal(["Alpha"], found["data"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()));
        Assert.Equal(["query.per_page|less_than_equal"], await (await admin.GetAsync($"{Apps(tenant)}?per_page=101")).ReadValidationErrorsAsync());
    }

    [Fact]
    public async Task A_tenant_viewer_reads_applications_and_a_tenant_admin_manages_them()
    {
        var tenant = await app.CreateTenantAsync();
        var (id, _, _) = await CreateServiceAsync(tenant);
        using var viewer = await ClientWithTenantRoleAsync("TENANT_VIEWER", tenant);
        await (await viewer.GetAsync(Apps(tenant))).ShouldBeAsync(200);
        await (await viewer.GetAsync($"{Apps(tenant)}/{id}")).ShouldBeAsync(200);
        await (await viewer.GetAsync($"{Apps(tenant)}/{id}/effective-users")).ShouldBeAsync(200);
        await (await viewer.PostAsJsonAsync(Apps(tenant), new { name = "Nope", type = "SERVICE" })).ReadProblemAsync(403);
        await (await viewer.PostAsync($"{Apps(tenant)}/{id}/secret", null)).ReadProblemAsync(403);
        await (await viewer.DeleteAsync($"{Apps(tenant)}/{id}")).ReadProblemAsync(403);

        using var tenantAdmin = await ClientWithTenantRoleAsync("TENANT_ADMIN", tenant);
        await (await tenantAdmin.PostAsJsonAsync(Apps(tenant), new { name = "Own", type = "SERVICE" })).ShouldBeAsync(201);
        var other = await app.CreateTenantAsync();
        await (await tenantAdmin.GetAsync(Apps(other))).ReadProblemAsync(403);
    }

    // ---- what an application's token may do ----

    [Fact]
    public async Task A_service_token_reads_users_assigned_directly_through_a_group_and_through_a_nested_group_only()
    {
        var tenant = await app.CreateTenantAsync();
        var parent = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Company" });
        var assigned = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Finance", parent_group_id = parent });
        var child = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Payroll", parent_group_id = assigned });
        var direct = await app.CreateUserIdAsync(tenant, "direct@example.com");
        var member = await app.CreateUserIdAsync(tenant, "member@example.com");
        var nested = await app.CreateUserIdAsync(tenant, "nested@example.com");
        var above = await app.CreateUserIdAsync(tenant, "above@example.com");
        var stranger = await app.CreateUserIdAsync(tenant, "stranger@example.com");
        await AddMembersAsync(tenant, assigned, member);
        await AddMembersAsync(tenant, child, nested);
        await AddMembersAsync(tenant, parent, above);
        var (id, clientId, secret) = await CreateServiceAsync(tenant);
        await AssignAsync(tenant, id, new { user_id = direct });
        await AssignAsync(tenant, id, new { group_id = assigned });

        using var service = app.WithToken(await app.GetTokenAsync(clientId, secret));
        foreach (var user in new[] { direct, member, nested })
        {
            var json = await (await service.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ReadJsonAsync(200);
            Assert.Equal(user, Id(json));
        }

        // A member of the assigned group's parent is not covered (assignments reach down the tree, not up).
        await (await service.GetAsync($"/api/v1/tenants/{tenant}/users/{above}")).ReadProblemAsync(404);
        await (await service.GetAsync($"/api/v1/tenants/{tenant}/users/{stranger}")).ReadProblemAsync(404);
        await (await service.GetAsync($"/api/v1/tenants/{tenant}/users/{Guid.NewGuid()}")).ReadProblemAsync(404);

        // Unassigning takes effect at once.
        using var admin = await app.AdminAsync();
        var assignments = await (await admin.GetAsync($"{Apps(tenant)}/{id}/assignments")).ReadJsonAsync(200);
        var directAssignment = assignments["data"]!.AsArray().Single(a => a!["user_id"]?.GetValue<string>() == direct)!["id"]!.GetValue<string>();
        await (await admin.DeleteAsync($"{Apps(tenant)}/{id}/assignments/{directAssignment}")).ShouldBeAsync(204);
        await (await service.GetAsync($"/api/v1/tenants/{tenant}/users/{direct}")).ReadProblemAsync(404);
    }

    [Fact]
    public async Task A_service_token_is_forbidden_on_every_other_route()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync();
        var user = await app.CreateUserIdAsync(tenant, "assigned@example.com");
        var otherUser = await app.CreateUserIdAsync(other, "elsewhere@example.com");
        var (id, clientId, secret) = await CreateServiceAsync(tenant);
        await AssignAsync(tenant, id, new { user_id = user });
        using var service = app.WithToken(await app.GetTokenAsync(clientId, secret));

        await (await service.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ShouldBeAsync(200);
        await (await service.GetAsync($"/api/v1/tenants/{tenant}/users/{user}?include=sessions")).ReadProblemAsync(403);
        await (await service.GetAsync($"/api/v1/tenants/{tenant}/users/{user}?include=applications")).ReadProblemAsync(403);
        await (await service.GetAsync($"/api/v1/tenants/{other}/users/{otherUser}")).ReadProblemAsync(403);
        await (await service.GetAsync($"/api/v1/tenants/{tenant}/users")).ReadProblemAsync(403);
        await (await service.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users", new { email = "planted@example.com" })).ReadProblemAsync(403);
        await (await service.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}", new { first_name = "Changed" })).ReadProblemAsync(403);
        await (await service.GetAsync($"/api/v1/tenants/{tenant}/groups")).ReadProblemAsync(403);
        await (await service.GetAsync($"/api/v1/tenants/{tenant}/ous")).ReadProblemAsync(403);
        await (await service.GetAsync($"/api/v1/tenants/{tenant}/audit-events")).ReadProblemAsync(403);
        await (await service.GetAsync(Apps(tenant))).ReadProblemAsync(403);
        await (await service.GetAsync($"{Apps(tenant)}/{id}")).ReadProblemAsync(403);
        await (await service.GetAsync($"{Apps(tenant)}/{id}/effective-users")).ReadProblemAsync(403);
        await (await service.PostAsync($"{Apps(tenant)}/{id}/secret", null)).ReadProblemAsync(403);
        await (await service.PostAsJsonAsync($"{Apps(tenant)}/{id}/assignments", new { user_id = otherUser })).ReadProblemAsync(403);
        await (await service.GetAsync("/api/v1/admin/users/")).ReadProblemAsync(403);
        await (await service.GetAsync($"/api/v1/admin/users/{user}")).ReadProblemAsync(403);
        await (await service.GetAsync("/api/v1/admin/tenants")).ReadProblemAsync(403);
        await (await service.GetAsync("/api/v1/admin/partners")).ReadProblemAsync(403);
    }

    [Fact]
    public async Task Deleting_an_application_stops_its_token_at_once_and_removes_its_client_and_assignments()
    {
        var tenant = await app.CreateTenantAsync();
        var user = await app.CreateUserIdAsync(tenant);
        var group = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Readers" });
        var (id, clientId, secret) = await CreateServiceAsync(tenant);
        await AssignAsync(tenant, id, new { user_id = user });
        await AssignAsync(tenant, id, new { group_id = group });
        using var service = app.WithToken(await app.GetTokenAsync(clientId, secret));
        await (await service.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ShouldBeAsync(200);

        using var admin = await app.AdminAsync();
        await (await admin.DeleteAsync($"{Apps(tenant)}/{id}")).ShouldBeAsync(204);

        // Refused as a revoked token (401), not merely without an application binding.
        await (await service.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ReadProblemAsync(401);
        var token = await RequestTokenAsync(clientId, secret);
        Assert.False(token.IsSuccessStatusCode, await token.Content.ReadAsStringAsync());
        Assert.Null(await OpenIddictClientAsync(clientId));
        await (await admin.GetAsync($"{Apps(tenant)}/{id}")).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"{Apps(tenant)}/{id}")).ReadProblemAsync(404);
        await (await admin.GetAsync($"{Apps(tenant)}/{id}/assignments")).ReadProblemAsync(404);
        Assert.Equal(0, await app.DbAsync(db => db.ApplicationAssignments.CountAsync(a => a.ApplicationId == id)));

        // The user and the group are untouched.
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ShouldBeAsync(200);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups/{group}")).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Rotating_the_secret_retires_the_old_one_and_public_clients_have_none_to_rotate()
    {
        var tenant = await app.CreateTenantAsync();
        var (id, clientId, oldSecret) = await CreateServiceAsync(tenant);
        using var admin = await app.AdminAsync();

        var response = await admin.PostAsync($"{Apps(tenant)}/{id}/secret", null);
        var rotated = (await response.ReadJsonAsync(200))["data"]!;
        var newSecret = rotated["client_secret"]!.GetValue<string>();
        Assert.Equal(clientId, rotated["client_id"]!.GetValue<string>());
        Assert.Equal(id, rotated["application_id"]!.GetValue<string>());
        Assert.NotEqual(oldSecret, newSecret);

        var old = await RequestTokenAsync(clientId, oldSecret);
        Assert.False(old.IsSuccessStatusCode, await old.Content.ReadAsStringAsync());
        Assert.Equal("invalid_client", (await old.ReadJsonAsync((int)old.StatusCode))["error"]!.GetValue<string>());
        await app.GetTokenAsync(clientId, newSecret);

        var got = await (await admin.GetAsync($"{Apps(tenant)}/{id}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(newSecret, got, StringComparison.Ordinal);
        Assert.NotNull(JsonNode.Parse(got)!["data"]!["updated_at"]);

        var spa = await CreateAppDataAsync(tenant, new { name = "Spa", type = "SPA", redirect_uris = new[] { WebCallback } });
        await (await admin.PostAsync($"{Apps(tenant)}/{spa["id"]}/secret", null)).ReadProblemAsync(409);
        await (await admin.PostAsync($"{Apps(tenant)}/{Guid.NewGuid()}/secret", null)).ReadProblemAsync(404);
        Assert.Single(await AuditAsync(tenant, "application.secret_rotated"));
    }

    // ---- assignments and effective users ----

    [Fact]
    public async Task Assignments_take_exactly_one_existing_user_or_group_of_the_tenant_once()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync();
        var user = await app.CreateUserIdAsync(tenant, "one@example.com");
        var deleted = await app.CreateUserIdAsync(tenant, "gone@example.com");
        var group = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Team" });
        var otherUser = await app.CreateUserIdAsync(other);
        var otherGroup = await app.CreateAsync($"/api/v1/tenants/{other}/groups", new { name = "Theirs" });
        var (id, _, _) = await CreateServiceAsync(tenant);
        using var admin = await app.AdminAsync();
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{deleted}?confirm_email=gone@example.com")).ShouldBeAsync(204);
        var path = $"{Apps(tenant)}/{id}/assignments";

        Assert.Equal(["body|value_error"], await (await admin.PostAsJsonAsync(path, new { })).ReadValidationErrorsAsync());
        Assert.Equal(["body|value_error"], await (await admin.PostAsJsonAsync(path, new { user_id = user, group_id = group })).ReadValidationErrorsAsync());
        Assert.Equal(["body|value_error"], await (await admin.PostAsJsonAsync(path, new { user_id = (string?)null, group_id = (string?)null })).ReadValidationErrorsAsync());
        Assert.Equal(["body.role|extra_forbidden"], await (await admin.PostAsJsonAsync(path, new { user_id = user, role = "admin" })).ReadValidationErrorsAsync());
        Assert.Equal(["body.user_id"], await LocsAsync(await admin.PostAsJsonAsync(path, new { user_id = Guid.NewGuid().ToString() })));
        Assert.Equal(["body.user_id"], await LocsAsync(await admin.PostAsJsonAsync(path, new { user_id = otherUser })));
        Assert.Equal(["body.user_id"], await LocsAsync(await admin.PostAsJsonAsync(path, new { user_id = deleted })));
        Assert.Equal(["body.group_id"], await LocsAsync(await admin.PostAsJsonAsync(path, new { group_id = otherGroup })));
        Assert.Equal(["body.group_id"], await LocsAsync(await admin.PostAsJsonAsync(path, new { group_id = Guid.NewGuid().ToString() })));
        await (await admin.PostAsJsonAsync($"{Apps(tenant)}/{Guid.NewGuid()}/assignments", new { user_id = user })).ReadProblemAsync(404);

        var byUser = (await (await admin.PostAsJsonAsync(path, new { user_id = user })).ReadJsonAsync(201))["data"]!;
        Assert.Equal(id, byUser["application_id"]!.GetValue<string>());
        Assert.Equal(user, byUser["user_id"]!.GetValue<string>());
        Assert.Null(byUser["group_id"]);
        Assert.NotNull(byUser["created_at"]);
        var byGroup = (await (await admin.PostAsJsonAsync(path, new { group_id = group })).ReadJsonAsync(201))["data"]!;
        Assert.Equal(group, byGroup["group_id"]!.GetValue<string>());
        Assert.Null(byGroup["user_id"]);

        await (await admin.PostAsJsonAsync(path, new { user_id = user })).ReadProblemAsync(409);
        await (await admin.PostAsJsonAsync(path, new { group_id = group })).ReadProblemAsync(409);

        var list = await (await admin.GetAsync(path)).ReadJsonAsync(200);
        Assert.Equal([byUser["id"]!.GetValue<string>(), byGroup["id"]!.GetValue<string>()], IdsOf(list));
        Assert.Equal(2, list["pagination"]!["total_items"]!.GetValue<int>());
        Assert.Single((await (await admin.GetAsync($"{path}?per_page=1&page=2")).ReadJsonAsync(200))["data"]!.AsArray());

        await (await admin.DeleteAsync($"{path}/{byUser["id"]}")).ShouldBeAsync(204);
        await (await admin.DeleteAsync($"{path}/{byUser["id"]}")).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"{path}/{Guid.NewGuid()}")).ReadProblemAsync(404);
        Assert.Equal([byGroup["id"]!.GetValue<string>()], IdsOf(await (await admin.GetAsync(path)).ReadJsonAsync(200)));

        // Re-assigning after removal works.
        await (await admin.PostAsJsonAsync(path, new { user_id = user })).ShouldBeAsync(201);
    }

    [Fact]
    public async Task Effective_users_are_direct_group_and_nested_group_members_once_each_ordered_by_email()
    {
        var tenant = await app.CreateTenantAsync();
        var top = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Top" });
        var sales = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Sales", parent_group_id = top });
        var emea = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "EMEA", parent_group_id = sales });
        var berlin = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Berlin", parent_group_id = emea });
        var support = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Support" });
        var dora = await app.CreateUserIdAsync(tenant, "dora@example.com");
        var anna = await app.CreateUserIdAsync(tenant, "Anna@example.com");
        var cleo = await app.CreateUserIdAsync(tenant, "cleo@example.com");
        var bert = await app.CreateUserIdAsync(tenant, "bert@example.com");
        var erik = await app.CreateUserIdAsync(tenant, "erik@example.com");
        var finn = await app.CreateUserIdAsync(tenant, "finn@example.com");
        var gina = await app.CreateUserIdAsync(tenant, "gina@example.com");
        await AddMembersAsync(tenant, sales, anna, bert);
        await AddMembersAsync(tenant, emea, cleo, anna);
        await AddMembersAsync(tenant, berlin, dora);
        await AddMembersAsync(tenant, top, erik);
        await AddMembersAsync(tenant, support, finn, anna);
        var (id, _, _) = await CreateServiceAsync(tenant);
        await AssignAsync(tenant, id, new { user_id = anna });
        await AssignAsync(tenant, id, new { user_id = gina });
        await AssignAsync(tenant, id, new { group_id = sales });
        await AssignAsync(tenant, id, new { group_id = emea });
        using var admin = await app.AdminAsync();
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{gina}?confirm_email=gina@example.com")).ShouldBeAsync(204);

        var path = $"{Apps(tenant)}/{id}/effective-users";
        var page = await (await admin.GetAsync(path)).ReadJsonAsync(200);
        Assert.Equal([anna, bert, cleo, dora], IdsOf(page));
        Assert.Equal(4, page["pagination"]!["total_items"]!.GetValue<int>());
        var first = page["data"]![0]!;
        Assert.Equal("Anna@example.com", first["email"]!.GetValue<string>());
        Assert.Equal("PENDING_EMAIL_VERIFICATION", first["status"]!.GetValue<string>());
        Assert.Equal("LOCAL", first["identity_source"]!.GetValue<string>());

        var seen = new List<string>();
        for (var p = 1; p <= 2; p++)
        {
            var json = await (await admin.GetAsync($"{path}?per_page=3&page={p}")).ReadJsonAsync(200);
            Assert.Equal(4, json["pagination"]!["total_items"]!.GetValue<int>());
            Assert.Equal(2, json["pagination"]!["total_pages"]!.GetValue<int>());
            seen.AddRange(IdsOf(json));
        }

        Assert.Equal([anna, bert, cleo, dora], seen);
        Assert.DoesNotContain(erik, seen);
        Assert.DoesNotContain(finn, seen);

        // An application with no assignments covers nobody; an unknown application is 404.
        var (empty, _, _) = await CreateServiceAsync(tenant, "Unused");
        var none = await (await admin.GetAsync($"{Apps(tenant)}/{empty}/effective-users")).ReadJsonAsync(200);
        Assert.Empty(none["data"]!.AsArray());
        Assert.Equal(0, none["pagination"]!["total_pages"]!.GetValue<int>());
        await (await admin.GetAsync($"{Apps(tenant)}/{Guid.NewGuid()}/effective-users")).ReadProblemAsync(404);

        // A deleted group's members drop out with it.
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/groups/{berlin}")).ShouldBeAsync(204);
        Assert.Equal([anna, bert, cleo], IdsOf(await (await admin.GetAsync(path)).ReadJsonAsync(200)));
    }

    [Fact]
    public async Task Include_applications_on_a_user_lists_direct_and_group_assignments_by_name_direct_winning()
    {
        var tenant = await app.CreateTenantAsync();
        var parent = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Parent" });
        var child = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Child", parent_group_id = parent });
        var user = await app.CreateUserIdAsync(tenant, "apps@example.com");
        var loner = await app.CreateUserIdAsync(tenant, "loner@example.com");
        await AddMembersAsync(tenant, child, user);
        var (zeta, _, _) = await CreateServiceAsync(tenant, "Zeta");
        var (alpha, _, _) = await CreateServiceAsync(tenant, "alpha");
        var (mid, _, _) = await CreateServiceAsync(tenant, "Mid");
        await CreateServiceAsync(tenant, "Beta unassigned");
        await AssignAsync(tenant, zeta, new { user_id = user });
        await AssignAsync(tenant, alpha, new { group_id = parent });
        await AssignAsync(tenant, mid, new { group_id = child });
        await AssignAsync(tenant, mid, new { user_id = user });
        using var admin = await app.AdminAsync();

        var json = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}?include=applications")).ReadJsonAsync(200);
        var apps = json["data"]!["applications"]!.AsArray();
        Assert.Equal([alpha, mid, zeta], apps.Select(a => a!["id"]!.GetValue<string>()));
        Assert.Equal(["GROUP", "DIRECT", "DIRECT"], apps.Select(a => a!["assigned_via"]!.GetValue<string>()));
        Assert.Equal(["alpha", "Mid", "Zeta"], apps.Select(a => a!["name"]!.GetValue<string>()));
        Assert.All(apps, a => Assert.Equal("SERVICE", a!["type"]!.GetValue<string>()));

        var lonely = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{loner}?include=applications")).ReadJsonAsync(200);
        Assert.Empty(lonely["data"]!["applications"]!.AsArray());
        var plain = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ReadJsonAsync(200);
        Assert.Null(plain["data"]!["applications"]);
    }

    // ---- audit and isolation ----

    [Fact]
    public async Task Every_change_writes_an_application_audit_event_with_field_names_and_no_secret()
    {
        var tenant = await app.CreateTenantAsync();
        var user = await app.CreateUserIdAsync(tenant);
        var (id, _, secret) = await CreateServiceAsync(tenant);
        using var admin = await app.AdminAsync();
        await (await admin.PatchAsJsonAsync($"{Apps(tenant)}/{id}", new { name = "Renamed" })).ShouldBeAsync(200);
        var rotated = (await (await admin.PostAsync($"{Apps(tenant)}/{id}/secret", null)).ReadJsonAsync(200))["data"]!["client_secret"]!.GetValue<string>();
        var assignment = Id(await (await admin.PostAsJsonAsync($"{Apps(tenant)}/{id}/assignments", new { user_id = user })).ReadJsonAsync(201));
        await (await admin.DeleteAsync($"{Apps(tenant)}/{id}/assignments/{assignment}")).ShouldBeAsync(204);
        await (await admin.DeleteAsync($"{Apps(tenant)}/{id}")).ShouldBeAsync(204);

        var expected = new Dictionary<string, string[]>
        {
            ["application.created"] = ["assignment_required", "consent_required", "first_party", "grant_types", "name", "redirect_uris", "type"],
            ["application.updated"] = ["name"],
            ["application.secret_rotated"] = ["client_secret"],
            ["application.assignment_created"] = ["assignments"],
            ["application.assignment_deleted"] = ["assignments"],
            ["application.deleted"] = [],
        };
        foreach (var (action, changes) in expected)
        {
            var e = Assert.Single(await AuditAsync(tenant, action));
            Assert.Equal("application", e["target_type"]!.GetValue<string>());
            Assert.Equal(id, e["target_id"]!.GetValue<string>());
            Assert.Equal(tenant, e["tenant_id"]!.GetValue<string>());
            Assert.Equal(ScaiKeyApp.AdminClientId, e["actor_id"]!.GetValue<string>());
            Assert.Equal(changes, Strings(e["changes"]));
        }

        Assert.Equal("user " + user, Assert.Single(await AuditAsync(tenant, "application.assignment_created"))["reason"]!.GetValue<string>());
        var everything = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?target_id={id}&per_page=100")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(rotated, everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_tenants_application_is_404_through_this_tenants_routes()
    {
        var mine = await app.CreateTenantAsync();
        var theirs = await app.CreateTenantAsync();
        var myUser = await app.CreateUserIdAsync(mine);
        var theirUser = await app.CreateUserIdAsync(theirs);
        var (theirApp, theirClient, theirSecret) = await CreateServiceAsync(theirs, "Theirs");
        await AssignAsync(theirs, theirApp, new { user_id = theirUser });
        using var admin = await app.AdminAsync();
        var theirAssignment = (await (await admin.GetAsync($"{Apps(theirs)}/{theirApp}/assignments")).ReadJsonAsync(200))["data"]![0]!["id"]!.GetValue<string>();
        var through = $"{Apps(mine)}/{theirApp}";

        await (await admin.GetAsync(through)).ReadProblemAsync(404);
        await (await admin.PatchAsJsonAsync(through, new { name = "Stolen" })).ReadProblemAsync(404);
        await (await admin.PostAsync($"{through}/secret", null)).ReadProblemAsync(404);
        await (await admin.PostAsJsonAsync($"{through}/assignments", new { user_id = myUser })).ReadProblemAsync(404);
        await (await admin.GetAsync($"{through}/assignments")).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"{through}/assignments/{theirAssignment}")).ReadProblemAsync(404);
        await (await admin.GetAsync($"{through}/effective-users")).ReadProblemAsync(404);
        await (await admin.DeleteAsync(through)).ReadProblemAsync(404);
        Assert.DoesNotContain(theirApp, IdsOf(await (await admin.GetAsync(Apps(mine))).ReadJsonAsync(200)));

        // Untouched in its own tenant, and its token still reads its own assigned user but nothing of mine.
        var stillThere = (await (await admin.GetAsync($"{Apps(theirs)}/{theirApp}")).ReadJsonAsync(200))["data"]!;
        Assert.Equal("Theirs", stillThere["name"]!.GetValue<string>());
        Assert.Single((await (await admin.GetAsync($"{Apps(theirs)}/{theirApp}/assignments")).ReadJsonAsync(200))["data"]!.AsArray());
        using var service = app.WithToken(await app.GetTokenAsync(theirClient, theirSecret));
        await (await service.GetAsync($"/api/v1/tenants/{theirs}/users/{theirUser}")).ShouldBeAsync(200);
        await (await service.GetAsync($"/api/v1/tenants/{mine}/users/{myUser}")).ReadProblemAsync(403);

        // Assigning another tenant's user or group to my application is a 422, not a cross-tenant link.
        var (myApp, _, _) = await CreateServiceAsync(mine, "Mine");
        Assert.Equal(["body.user_id"], await LocsAsync(await admin.PostAsJsonAsync($"{Apps(mine)}/{myApp}/assignments", new { user_id = theirUser })));
    }
}
