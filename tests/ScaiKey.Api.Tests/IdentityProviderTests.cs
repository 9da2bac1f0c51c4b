using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.IdentityProviders;
using ScaiKey.Api.Security;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>Identity providers of a tenant (secrets write-only and sealed) and the federated identities that link users to them.</summary>
public sealed class IdentityProviderTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string ClientSecret = "oidc-client-secret-Zq81vXk2";
    private const string BindPassword = "ldap-bind-password-Rt55mWp0";
    private const string PrivateKey = "-----BEGIN PRIVATE KEY-----saml-key-Hh27cNb4-----END PRIVATE KEY-----";

    // A SAML provider needs the IdP's signing certificate; an SP key must be a real RSA key with its certificate.
    private static readonly System.Security.Cryptography.RSA SpKey = System.Security.Cryptography.RSA.Create(2048);
    private static readonly string IdpCertificate = SamlIdpFixture.SelfSigned(System.Security.Cryptography.RSA.Create(2048), "CN=idp").ExportCertificatePem();
    private static readonly string SpCertificate = SamlIdpFixture.SelfSigned(SpKey, "CN=sp").ExportCertificatePem();

    private static string Unique(string prefix) => prefix + " " + Guid.NewGuid().ToString("N")[..8];

    private static string Id(JsonNode json) => json["data"]!["id"]!.GetValue<string>();

    private static List<string> IdsOf(JsonNode page) => page["data"]!.AsArray().Select(p => p!["id"]!.GetValue<string>()).ToList();

    private static object Oidc(string? name = null, object? config = null) => new
    {
        name = name ?? Unique("Entra"),
        type = "OIDC",
        config = config ?? new { issuer = "https://login.example.com/tenant/v2.0", client_id = "scaikey", client_secret = ClientSecret, scopes = new[] { "openid", "email" } },
    };

    private async Task<string> CreateProviderAsync(string tenant, object? body = null) =>
        await app.CreateAsync($"/api/v1/tenants/{tenant}/identity-providers", body ?? Oidc());

    private async Task<JsonNode> LinkAsync(string tenant, string user, string provider, string subject)
    {
        using var admin = await app.AdminAsync();
        var response = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}/federated-identities", new { identity_provider_id = provider, subject });
        return (await response.ReadJsonAsync(201))["data"]!;
    }

    // ---- identity providers ----

    [Fact]
    public async Task Provider_response_names_what_to_register_upstream_and_can_be_disabled()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var oidc = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers", Oidc())).ReadJsonAsync(201))["data"]!;
        var oidcId = oidc["id"]!.GetValue<string>();
        Assert.True(oidc["enabled"]!.GetValue<bool>());
        Assert.Equal($"http://localhost/federation/{oidcId}/oidc/callback", oidc["redirect_uri"]!.GetValue<string>());
        Assert.Null(oidc["acs_url"]);

        var saml = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers", new
        {
            name = Unique("Okta"),
            type = "SAML",
            enabled = false,
            config = new { entity_id = "urn:example:idp", sso_url = "https://idp.example.com/sso", idp_certificate = IdpCertificate },
        })).ReadJsonAsync(201))["data"]!;
        var samlId = saml["id"]!.GetValue<string>();
        Assert.False(saml["enabled"]!.GetValue<bool>());
        Assert.Null(saml["redirect_uri"]);
        Assert.Equal($"http://localhost/federation/{samlId}/saml", saml["sp_entity_id"]!.GetValue<string>());
        Assert.Equal($"http://localhost/federation/{samlId}/saml/acs", saml["acs_url"]!.GetValue<string>());
        Assert.Equal($"http://localhost/federation/{samlId}/saml/metadata", saml["sp_metadata_url"]!.GetValue<string>());

        // Renaming the tenant's slug changes none of them: they name the provider, not the tenant.
        var patched = await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers/{oidcId}", new { enabled = false })).ReadJsonAsync(200);
        Assert.False(patched["data"]!["enabled"]!.GetValue<bool>());
        Assert.Equal(oidc["redirect_uri"]!.GetValue<string>(), patched["data"]!["redirect_uri"]!.GetValue<string>());

        var bad = await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers/{oidcId}", new { enabled = "yes" });
        var error = await bad.ReadJsonAsync(422);
        Assert.Equal(["body", "enabled"], error["detail"]![0]!["loc"]!.AsArray().Select(l => l!.GetValue<string>()));
    }

    [Fact]
    public async Task Plain_http_issuers_are_refused_unless_the_operator_allows_them()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var response = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers",
            Oidc(config: new { issuer = "http://127.0.0.1:9/", client_id = "scaikey" }));
        var error = await response.ReadJsonAsync(422);
        Assert.Equal(["body", "config", "issuer"], error["detail"]![0]!["loc"]!.AsArray().Select(l => l!.GetValue<string>()));

        // The control: an instance whose operator allows plain http (the federation tests' peers) accepts it.
        var allowing = app.StartHost(b => b.UseSetting("ScaiKey:Federation:AllowHttpProviders", "true"));
        using var other = allowing.CreateClient();
        other.DefaultRequestHeaders.Authorization = admin.DefaultRequestHeaders.Authorization;
        await (await other.PostAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers",
            Oidc(config: new { issuer = "http://127.0.0.1:9/", client_id = "scaikey" }))).ShouldBeAsync(201);
        await app.StopHostAsync(allowing);
    }


    [Fact]
    public async Task Provider_create_get_list_rename_and_delete()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var response = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers", Oidc("Zeta Entra"));
        var created = await response.ReadJsonAsync(201);
        var id = Id(created);
        Assert.Equal($"/api/v1/tenants/{tenant}/identity-providers/{id}", response.Headers.Location?.OriginalString);
        var data = created["data"]!;
        Assert.Equal("Zeta Entra", data["name"]!.GetValue<string>());
        Assert.Equal("OIDC", data["type"]!.GetValue<string>());
        Assert.Equal("https://login.example.com/tenant/v2.0", data["config"]!["issuer"]!.GetValue<string>());
        Assert.Equal(["openid", "email"], data["config"]!["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(["client_secret"], data["secret_fields"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.NotNull(data["created_at"]);
        Assert.Null(data["updated_at"]);

        var ldap = await CreateProviderAsync(tenant, new
        {
            name = "Alpha Directory",
            type = "LDAP",
            config = new { url = "ldaps://ldap.example.com:636", base_dn = "dc=example,dc=com", bind_dn = "cn=reader", bind_password = BindPassword },
        });
        var saml = await CreateProviderAsync(tenant, new
        {
            name = "Mid Okta",
            type = "SAML",
            config = new { entity_id = "urn:example:idp", sso_url = "https://idp.example.com/sso", idp_certificate = IdpCertificate, private_key = PrivateKey },
        });

        var got = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/identity-providers/{id}")).ReadJsonAsync(200);
        Assert.True(JsonNode.DeepEquals(created["data"], got["data"]), got.ToJsonString());

        var list = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/identity-providers")).ReadJsonAsync(200);
        Assert.Equal([ldap, saml, id], IdsOf(list));
        Assert.Equal(3, list["pagination"]!["total_items"]!.GetValue<int>());
        var second = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/identity-providers?page=2&per_page=2")).ReadJsonAsync(200);
        Assert.Equal([id], IdsOf(second));
        Assert.Equal(2, second["pagination"]!["total_pages"]!.GetValue<int>());

        var renamed = await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers/{id}", new { name = "Entra ID" })).ReadJsonAsync(200);
        Assert.Equal("Entra ID", renamed["data"]!["name"]!.GetValue<string>());
        Assert.NotNull(renamed["data"]!["updated_at"]);

        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/identity-providers/{id}")).ShouldBeAsync(204);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/identity-providers/{id}")).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/identity-providers/{id}")).ReadProblemAsync(404);
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers/{id}", new { name = "Ghost" })).ReadProblemAsync(404);

        var actions = await app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TargetId == id).OrderBy(e => e.CreatedAt).Select(e => e.Action).ToListAsync());
        Assert.Equal(["identity_provider.created", "identity_provider.updated", "identity_provider.deleted"], actions);
        var types = await app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TargetId == id).Select(e => e.TargetType).Distinct().ToListAsync());
        Assert.Equal(["identity_provider"], types);
    }

    [Fact]
    public async Task Secret_values_never_appear_in_responses_the_config_column_or_the_audit_trail()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var bodies = new List<string>();
        async Task<JsonNode> Read(HttpResponseMessage response, int status)
        {
            bodies.Add(await response.Content.ReadAsStringAsync());
            return await response.ReadJsonAsync(status);
        }

        var created = await Read(await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers", new
        {
            name = Unique("Everything"),
            type = "OIDC",
            config = new Dictionary<string, string>
            {
                ["issuer"] = "https://id.example.com",
                ["client_id"] = "app",
                ["client_secret"] = ClientSecret,
                ["Admin_Password"] = BindPassword,
                ["PRIVATE_KEY"] = PrivateKey,
                ["bind_credential"] = "bind-credential-Kk09",
            },
        }), 201);
        var id = Id(created);
        Assert.Equal(["Admin_Password", "PRIVATE_KEY", "bind_credential", "client_secret"], created["data"]!["secret_fields"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(["issuer", "client_id"], created["data"]!["config"]!.AsObject().Select(p => p.Key));

        await Read(await admin.GetAsync($"/api/v1/tenants/{tenant}/identity-providers/{id}"), 200);
        await Read(await admin.GetAsync($"/api/v1/tenants/{tenant}/identity-providers"), 200);
        var patched = await Read(await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers/{id}",
            new { config = new { client_secret = "rotated-secret-Yy31", bind_credential = (string?)null } }), 200);
        Assert.Equal(["Admin_Password", "PRIVATE_KEY", "client_secret"], patched["data"]!["secret_fields"]!.AsArray().Select(s => s!.GetValue<string>()));
        await Read(await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?target_id={id}"), 200);

        string[] secrets = [ClientSecret, BindPassword, "saml-key-Hh27cNb4", "bind-credential-Kk09", "rotated-secret-Yy31"];
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(bodies, b => b.Contains(secret, StringComparison.Ordinal));
        }

        var stored = await app.DbAsync(db => db.IdentityProviders.AsNoTracking().SingleAsync(p => p.Id == id));
        var audit = await app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TargetId == id).ToListAsync());
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, stored.ConfigJson, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, stored.SealedSecrets!, StringComparison.Ordinal);
            Assert.DoesNotContain(audit, e => (e.ChangesJson ?? string.Empty).Contains(secret, StringComparison.Ordinal)
                || (e.Reason ?? string.Empty).Contains(secret, StringComparison.Ordinal));
        }

        // Sealed, bound to the row, and holding exactly the current values.
        var keyRing = app.Host.Services.GetRequiredService<KeyRing>();
        var opened = IdentityProviderConfig.Open(keyRing, id, stored.SealedSecrets);
        Assert.Equal("rotated-secret-Yy31", opened["client_secret"]!.GetValue<string>());
        Assert.Equal(BindPassword, opened["Admin_Password"]!.GetValue<string>());
        Assert.False(opened.ContainsKey("bind_credential"));
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => IdentityProviderConfig.Open(keyRing, Guid.NewGuid().ToString(), stored.SealedSecrets));
    }

    [Fact]
    public async Task Patch_merges_config_keys_and_keeps_secrets_unless_given()
    {
        var tenant = await app.CreateTenantAsync();
        var id = await CreateProviderAsync(tenant);
        using var admin = await app.AdminAsync();
        var url = $"/api/v1/tenants/{tenant}/identity-providers/{id}";

        var patched = await (await admin.PatchAsJsonAsync(url, new { config = new { client_id = "scaikey-2", prompt = "login", scopes = (string[]?)null } })).ReadJsonAsync(200);
        var config = patched["data"]!["config"]!.AsObject();
        Assert.Equal(["issuer", "client_id", "prompt"], config.Select(p => p.Key));
        Assert.Equal("scaikey-2", config["client_id"]!.GetValue<string>());
        Assert.Equal("https://login.example.com/tenant/v2.0", config["issuer"]!.GetValue<string>());
        Assert.Equal(["client_secret"], patched["data"]!["secret_fields"]!.AsArray().Select(s => s!.GetValue<string>()));

        var stored = await app.DbAsync(db => db.IdentityProviders.AsNoTracking().SingleAsync(p => p.Id == id));
        var keyRing = app.Host.Services.GetRequiredService<KeyRing>();
        Assert.Equal(ClientSecret, IdentityProviderConfig.Open(keyRing, id, stored.SealedSecrets)["client_secret"]!.GetValue<string>());
        var changes = await app.DbAsync(db => db.AuditEvents.AsNoTracking()
            .Where(e => e.TargetId == id && e.Action == "identity_provider.updated").Select(e => e.ChangesJson).SingleAsync());
        Assert.Equal("""["config.client_id","config.prompt","config.scopes"]""", changes);

        // Removing the secret; an unchanged PATCH writes nothing.
        patched = await (await admin.PatchAsJsonAsync(url, new { config = new { client_secret = (string?)null } })).ReadJsonAsync(200);
        Assert.Empty(patched["data"]!["secret_fields"]!.AsArray());
        Assert.Null(await app.DbAsync(db => db.IdentityProviders.AsNoTracking().Where(p => p.Id == id).Select(p => p.SealedSecrets).SingleAsync()));
        await (await admin.PatchAsJsonAsync(url, new { config = new { client_id = "scaikey-2", missing_key = (string?)null } })).ShouldBeAsync(200);
        Assert.Equal(2, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TargetId == id && e.Action == "identity_provider.updated")));

        // A merge that removes or breaks a required key is refused and changes nothing.
        Assert.Equal(["body.config.issuer|missing"], await (await admin.PatchAsJsonAsync(url, new { config = new { issuer = (string?)null } })).ReadValidationErrorsAsync());
        Assert.Equal(["body.config.issuer|value_error"], await (await admin.PatchAsJsonAsync(url, new { config = new { issuer = "http://insecure.example.com" } })).ReadValidationErrorsAsync());
        var after = await (await admin.GetAsync(url)).ReadJsonAsync(200);
        Assert.Equal("https://login.example.com/tenant/v2.0", after["data"]!["config"]!["issuer"]!.GetValue<string>());
    }

    [Fact]
    public async Task Type_cannot_be_changed()
    {
        var tenant = await app.CreateTenantAsync();
        var id = await CreateProviderAsync(tenant);
        using var admin = await app.AdminAsync();
        var url = $"/api/v1/tenants/{tenant}/identity-providers/{id}";
        Assert.Equal(["body.type|value_error"], await (await admin.PatchAsJsonAsync(url, new { type = "SAML" })).ReadValidationErrorsAsync());
        Assert.Equal(["body.type|enum"], await (await admin.PatchAsJsonAsync(url, new { type = "KERBEROS" })).ReadValidationErrorsAsync());
        await (await admin.PatchAsJsonAsync(url, new { type = "OIDC", name = "Same Type" })).ShouldBeAsync(200);
        Assert.Equal("OIDC", await app.DbAsync(db => db.IdentityProviders.Where(p => p.Id == id).Select(p => p.Type).SingleAsync()));
    }

    [Fact]
    public async Task Required_config_keys_are_checked_per_type()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var url = $"/api/v1/tenants/{tenant}/identity-providers";
        async Task<List<string>> ErrorsAsync(string type, object config) =>
            await (await admin.PostAsJsonAsync(url, new { name = Unique("P"), type, config })).ReadValidationErrorsAsync();

        Assert.Equal(["body.config.issuer|missing", "body.config.client_id|missing"], await ErrorsAsync("OIDC", new { }));
        Assert.Equal(["body.config.issuer|value_error", "body.config.client_id|string_type"], await ErrorsAsync("OIDC", new { issuer = "http://id.example.com", client_id = 7 }));
        Assert.Equal(["body.config.issuer|value_error"], await ErrorsAsync("OIDC", new { issuer = "https://id.example.com/?tenant=1", client_id = "x" }));
        Assert.Equal(["body.config.client_id|string_too_short"], await ErrorsAsync("OIDC", new { issuer = "https://id.example.com", client_id = " " }));
        Assert.Equal(["body.config.sso_url|value_error", "body.config.entity_id|missing", "body.config.idp_certificate|missing"], await ErrorsAsync("SAML", new { sso_url = "idp.example.com/sso" }));
        Assert.Equal(["body.config.url|value_error", "body.config.base_dn|missing"], await ErrorsAsync("LDAP", new { url = "https://ldap.example.com" }));

        await (await admin.PostAsJsonAsync(url, new { name = Unique("P"), type = "LDAP", config = new { url = "ldap://ldap.example.com", base_dn = "dc=x" } })).ShouldBeAsync(201);
        await (await admin.PostAsJsonAsync(url, new { name = Unique("P"), type = "SAML", config = new { entity_id = "urn:x", sso_url = "https://idp.example.com/sso", idp_certificate = IdpCertificate } })).ShouldBeAsync(201);
    }

    [Fact]
    public async Task Provider_body_is_validated_like_every_write_body()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var url = $"/api/v1/tenants/{tenant}/identity-providers";
        Assert.Equal(["body.name|missing", "body.type|missing", "body.config|missing"], await (await admin.PostAsJsonAsync(url, new { })).ReadValidationErrorsAsync());
        Assert.Equal(["body.name|string_too_short", "body.type|enum", "body.config|dict_type"],
            await (await admin.PostAsJsonAsync(url, new { name = " ", type = "oidc", config = "issuer=x" })).ReadValidationErrorsAsync());
        Assert.Contains("body.active|extra_forbidden",
            await (await admin.PostAsJsonAsync(url, new { name = Unique("P"), type = "OIDC", config = new { issuer = "https://a.example.com", client_id = "x" }, active = true })).ReadValidationErrorsAsync());

        // Secrets are top-level strings, so none can be stored in plain text inside a nested object.
        Assert.Equal(["body.config.client_secret|string_type"],
            await (await admin.PostAsJsonAsync(url, new { name = Unique("P"), type = "OIDC", config = new { issuer = "https://a.example.com", client_id = "x", client_secret = 12345 } })).ReadValidationErrorsAsync());
        Assert.Equal(["body.config.extra|value_error"],
            await (await admin.PostAsJsonAsync(url, new { name = Unique("P"), type = "OIDC", config = new { issuer = "https://a.example.com", client_id = "x", extra = new[] { new { api_password = "p" } } } })).ReadValidationErrorsAsync());

        // At most 16 KiB, secrets included.
        Assert.Equal(["body.config|value_error"],
            await (await admin.PostAsJsonAsync(url, new { name = Unique("P"), type = "OIDC", config = new { issuer = "https://a.example.com", client_id = "x", client_secret = new string('s', 16 * 1024) } })).ReadValidationErrorsAsync());
        await (await admin.PostAsJsonAsync(url, new { name = Unique("P"), type = "OIDC", config = new { issuer = "https://a.example.com", client_id = "x", note = new string('n', 15 * 1024) } })).ShouldBeAsync(201);
        Assert.Equal(["body.config|value_error"], await (await admin.PostAsync(url, HttpAssertions.Json(
            """{"name": "Dup", "type": "OIDC", "config": {"issuer": "https://a.example.com", "client_id": "x", "client_id": "y"}}"""))).ReadValidationErrorsAsync());
    }

    [Fact]
    public async Task Config_values_that_cannot_be_decoded_or_hold_NUL_are_422_on_create_and_patch()
    {
        var tenant = await app.CreateTenantAsync();
        var id = await CreateProviderAsync(tenant);
        using var admin = await app.AdminAsync();
        var url = $"/api/v1/tenants/{tenant}/identity-providers";
        var before = await (await admin.GetAsync($"{url}/{id}")).ReadJsonAsync(200);

        // A lone surrogate parses as JSON but is no string: refused wherever it sits, on create and on PATCH alike.
        string[] undecodable =
        [
            """ "note": "\ud800" """,
            """ "issuer": "\ud800" """,
            """ "client_secret": "\ud800" """,
            """ "\ud800": "x" """,
            """ "extra": {"deep": ["ok", "\udfff"]} """,
            """ "extra": {"\ud800": 1} """,
        ];
        foreach (var entry in undecodable)
        {
            var required = entry.Contains("\"issuer\"", StringComparison.Ordinal) ? "\"client_id\": \"x\"" : "\"issuer\": \"https://a.example.com\", \"client_id\": \"x\"";
            Assert.Equal(["body|json_invalid"], await (await admin.PostAsync(url, HttpAssertions.Json(
                """{"name": "Broken", "type": "OIDC", "config": {""" + required + ", " + entry + "}}"))).ReadValidationErrorsAsync());
            Assert.Equal(["body|json_invalid"], await (await admin.PatchAsync($"{url}/{id}", HttpAssertions.Json("""{"config": {""" + entry + "}}"))).ReadValidationErrorsAsync());
        }

        // NUL characters, in a value or a key at any depth, are refused on body.config.
        string[] withNul = ["""{"note": "a\u0000b"}""", """{"issuer": "https://a.example.com/\u0000"}""", """{"extra": {"k\u0000": "v"}}""", """{"extra": ["\u0000"]}"""];
        foreach (var config in withNul)
        {
            Assert.Equal(["body.config|value_error"], await (await admin.PatchAsync($"{url}/{id}", HttpAssertions.Json("""{"config": """ + config + "}"))).ReadValidationErrorsAsync());
        }

        var after = await (await admin.GetAsync($"{url}/{id}")).ReadJsonAsync(200);
        Assert.True(JsonNode.DeepEquals(before["data"], after["data"]), after.ToJsonString());

        // An escaped backslash followed by "u0000" is six ordinary characters, not a NUL.
        var path = await (await admin.PatchAsync($"{url}/{id}", HttpAssertions.Json("""{"config": {"note": "C:\\u0000dir"}}"""))).ReadJsonAsync(200);
        Assert.Equal(@"C:\u0000dir", path["data"]!["config"]!["note"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("client_secret", true)]
    [InlineData("Admin_Password", true)]
    [InlineData("ldap_passwd", true)]
    [InlineData("bind_credential", true)]
    [InlineData("bind_credentials", true)]
    [InlineData("api_token", true)]
    [InlineData("sp_private_key", true)]
    [InlineData("PRIVATE_KEY", true)]
    [InlineData("signing_key", true)]
    [InlineData("apiKey", true)]
    [InlineData("client_id", false)]
    [InlineData("entity_id", false)]
    [InlineData("issuer", false)]
    [InlineData("base_dn", false)]
    [InlineData("url", false)]
    [InlineData("sso_url", false)]
    [InlineData("token_url", false)]
    [InlineData("JWKS_URL", false)]
    [InlineData("signing_key_id", false)]
    [InlineData("scopes", false)]
    [InlineData("bind_dn", false)]
    public void Secret_names_follow_the_documented_rule(string name, bool secret) =>
        Assert.Equal(secret, IdentityProviderConfig.IsSecret(name));

    [Fact]
    public async Task Keys_and_tokens_are_write_only_and_hidden_from_viewers()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var values = new Dictionary<string, string>
        {
            ["sp_private_key"] = "sp-private-key-Pp41",
            ["signing_key"] = "signing-key-Ss42",
            ["bind_credentials"] = "bind-credentials-Bb43",
            ["api_token"] = "api-token-Tt44",
        };
        var config = new Dictionary<string, string>(values)
        {
            ["issuer"] = "https://id.example.com",
            ["client_id"] = "app",
            ["token_url"] = "https://id.example.com/token",
            ["signing_key_id"] = "kid-1",
        };
        var id = Id(await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers", new { name = Unique("Keys"), type = "OIDC", config })).ReadJsonAsync(201));

        using var viewer = await app.ClientWithRolesAsync(("TENANT_VIEWER", null, tenant));
        var response = await viewer.GetAsync($"/api/v1/tenants/{tenant}/identity-providers/{id}");
        var body = await response.Content.ReadAsStringAsync();
        var data = (await response.ReadJsonAsync(200))["data"]!;
        Assert.Equal(["api_token", "bind_credentials", "signing_key", "sp_private_key"], data["secret_fields"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(["issuer", "client_id", "token_url", "signing_key_id"], data["config"]!.AsObject().Select(p => p.Key));
        Assert.All(values.Values, v => Assert.DoesNotContain(v, body, StringComparison.Ordinal));
        var stored = await app.DbAsync(db => db.IdentityProviders.AsNoTracking().SingleAsync(p => p.Id == id));
        Assert.All(values.Values, v => Assert.DoesNotContain(v, stored.ConfigJson, StringComparison.Ordinal));

        // Nested, such a key could only be stored in clear, so it is refused.
        Assert.Equal(["body.config.extra|value_error"], await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers/{id}",
            new { config = new { extra = new { signing_key = "nested" } } })).ReadValidationErrorsAsync());
    }

    [Fact]
    public async Task Keys_a_type_declares_secret_are_sealed_even_when_their_name_does_not_say_so()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var bodies = new List<string>();
        async Task<JsonNode> Read(HttpResponseMessage response, int status)
        {
            bodies.Add(await response.Content.ReadAsStringAsync());
            return await response.ReadJsonAsync(status);
        }

        static List<string> SecretFields(JsonNode json) => json["data"]!["secret_fields"]!.AsArray().Select(s => s!.GetValue<string>()).ToList();

        var ldapCreated = await Read(await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers", new
        {
            name = Unique("OpenLDAP"),
            type = "LDAP",
            config = new Dictionary<string, string>
            {
                ["url"] = "ldaps://ldap.example.com", ["base_dn"] = "dc=example,dc=com", ["bind_dn"] = "cn=reader",
                ["bind_pw"] = "bind-pw-Qa61", ["pwd"] = "pwd-Qa62",
            },
        }), 201);
        var ldap = Id(ldapCreated);
        Assert.Equal(["bind_pw", "pwd"], SecretFields(ldapCreated));
        Assert.Equal(["url", "base_dn", "bind_dn"], ldapCreated["data"]!["config"]!.AsObject().Select(p => p.Key));
        Assert.Equal("dc=example,dc=com", ldapCreated["data"]!["config"]!["base_dn"]!.GetValue<string>());

        var samlCreated = await Read(await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers", new
        {
            name = Unique("Shibboleth"),
            type = "SAML",
            config = new Dictionary<string, string>
            {
                ["entity_id"] = "urn:example:idp", ["sso_url"] = "https://idp.example.com/sso", ["idp_certificate"] = IdpCertificate,
                ["sp_private_key"] = SpKey.ExportPkcs8PrivateKeyPem(), ["sp_certificate"] = SpCertificate,
                ["passphrase"] = "passphrase-Qa63",
            },
        }), 201);
        var saml = Id(samlCreated);
        Assert.Equal(["passphrase", "sp_private_key"], SecretFields(samlCreated));

        await Read(await admin.GetAsync($"/api/v1/tenants/{tenant}/identity-providers/{ldap}"), 200);
        await Read(await admin.GetAsync($"/api/v1/tenants/{tenant}/identity-providers/{saml}"), 200);
        await Read(await admin.GetAsync($"/api/v1/tenants/{tenant}/identity-providers"), 200);
        var patched = await Read(await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers/{ldap}",
            new { config = new { bind_pw = "bind-pw-rotated-Qa64", bindPw = "bind-pw-camel-Qa65" } }), 200);
        Assert.Equal(["bindPw", "bind_pw", "pwd"], SecretFields(patched));
        var samlPatched = await Read(await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers/{saml}",
            new { config = new { passphrase = "passphrase-rotated-Qa66" } }), 200);
        Assert.Equal(["passphrase", "sp_private_key"], SecretFields(samlPatched));

        string[] secrets = ["bind-pw-Qa61", "pwd-Qa62", "passphrase-Qa63", "bind-pw-rotated-Qa64", "bind-pw-camel-Qa65", "passphrase-rotated-Qa66"];
        var stored = await app.DbAsync(db => db.IdentityProviders.AsNoTracking().Where(p => p.Id == ldap || p.Id == saml).ToListAsync());
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(bodies, b => b.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(stored, p => p.ConfigJson.Contains(secret, StringComparison.Ordinal));
        }

        var keyRing = app.Host.Services.GetRequiredService<KeyRing>();
        var ldapSecrets = IdentityProviderConfig.Open(keyRing, ldap, stored.Single(p => p.Id == ldap).SealedSecrets);
        Assert.Equal("bind-pw-rotated-Qa64", ldapSecrets["bind_pw"]!.GetValue<string>());
        Assert.Equal("pwd-Qa62", ldapSecrets["pwd"]!.GetValue<string>());
        Assert.Equal("passphrase-rotated-Qa66",
            IdentityProviderConfig.Open(keyRing, saml, stored.Single(p => p.Id == saml).SealedSecrets)["passphrase"]!.GetValue<string>());

        // Nested under a plain key, a declared secret could only be stored in clear, so it is refused.
        Assert.Equal(["body.config.extra|value_error"], await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers/{ldap}",
            new { config = new { extra = new { pwd = "nested" } } })).ReadValidationErrorsAsync());
    }

    [Theory]
    [InlineData("LDAP", "bind_pw", true)]
    [InlineData("LDAP", "BindPw", true)]
    [InlineData("LDAP", "pwd", true)]
    [InlineData("LDAP", "ldap_default_authtok", true)]
    [InlineData("SAML", "passphrase", true)]
    [InlineData("SAML", "decryption_key", true)]
    [InlineData("OIDC", "client_secret", true)]
    [InlineData("OIDC", "api_token", true)]
    [InlineData("LDAP", "base_dn", false)]
    [InlineData("LDAP", "bind_dn", false)]
    [InlineData("SAML", "entity_id", false)]
    [InlineData("SAML", "x509cert", false)]
    [InlineData("OIDC", "client_id", false)]
    [InlineData(null, "passphrase", true)]
    public void Secret_keys_are_declared_per_type_with_the_name_rule_as_a_second_net(string? type, string name, bool secret) =>
        Assert.Equal(secret, IdentityProviderConfig.IsSecret(type, name));

    [Fact]
    public async Task Secret_named_keys_stored_in_clear_by_an_older_rule_are_hidden_and_sealed_on_the_next_change()
    {
        var tenant = await app.CreateTenantAsync();
        var id = Guid.NewGuid().ToString();
        await app.DbAsync(async db =>
        {
            db.IdentityProviders.Add(new IdentityProvider
            {
                Id = id,
                TenantId = tenant,
                Name = Unique("Legacy"),
                Type = "OIDC",
                ConfigJson = """{"issuer":"https://id.example.com","client_id":"app","api_token":"legacy-token-Lt51","extra":{"signing_key":"legacy-key-Lk52"}}""",
                CreatedAt = DateTime.UtcNow,
            });
            await db.SaveChangesAsync();
        });
        using var viewer = await app.ClientWithRolesAsync(("TENANT_VIEWER", null, tenant));
        var url = $"/api/v1/tenants/{tenant}/identity-providers";
        foreach (var path in new[] { $"{url}/{id}", url })
        {
            var body = await (await viewer.GetAsync(path)).Content.ReadAsStringAsync();
            Assert.DoesNotContain("legacy-token-Lt51", body, StringComparison.Ordinal);
            Assert.DoesNotContain("legacy-key-Lk52", body, StringComparison.Ordinal);
        }

        var data = (await (await viewer.GetAsync($"{url}/{id}")).ReadJsonAsync(200))["data"]!;
        Assert.Equal(["api_token", "extra"], data["secret_fields"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(["issuer", "client_id"], data["config"]!.AsObject().Select(p => p.Key));

        // The next change seals them; setting such a key again (here as a plain value) replaces the old one.
        using var admin = await app.AdminAsync();
        var patched = (await (await admin.PatchAsJsonAsync($"{url}/{id}", new { config = new { extra = "plain now" } })).ReadJsonAsync(200))["data"]!;
        Assert.Equal(["api_token"], patched["secret_fields"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal("plain now", patched["config"]!["extra"]!.GetValue<string>());
        var stored = await app.DbAsync(db => db.IdentityProviders.AsNoTracking().SingleAsync(p => p.Id == id));
        Assert.DoesNotContain("legacy-token-Lt51", stored.ConfigJson, StringComparison.Ordinal);
        var opened = IdentityProviderConfig.Open(app.Host.Services.GetRequiredService<KeyRing>(), id, stored.SealedSecrets);
        Assert.Equal("legacy-token-Lt51", opened["api_token"]!.GetValue<string>());
        Assert.False(opened.ContainsKey("extra"));
    }

    [Fact]
    public async Task Provider_names_are_unique_per_tenant()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync();
        var name = Unique("Corporate SSO");
        await CreateProviderAsync(tenant, Oidc(name));
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers", Oidc(name))).ReadProblemAsync(409);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{other}/identity-providers", Oidc(name))).ShouldBeAsync(201);

        var second = await CreateProviderAsync(tenant);
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers/{second}", new { name })).ReadProblemAsync(409);
    }

    [Fact]
    public async Task A_provider_of_another_tenant_is_404_through_this_tenants_routes()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync();
        var foreign = await CreateProviderAsync(other);
        using var admin = await app.AdminAsync();
        var url = $"/api/v1/tenants/{tenant}/identity-providers/{foreign}";
        await (await admin.GetAsync(url)).ReadProblemAsync(404);
        await (await admin.PatchAsJsonAsync(url, new { name = "Hijacked" })).ReadProblemAsync(404);
        await (await admin.DeleteAsync(url)).ReadProblemAsync(404);
        Assert.Empty(IdsOf(await (await admin.GetAsync($"/api/v1/tenants/{tenant}/identity-providers")).ReadJsonAsync(200)));

        // Nor can this tenant's users be linked to it.
        var user = await app.CreateUserIdAsync(tenant);
        Assert.Equal(["body.identity_provider_id|value_error"], await (await admin.PostAsJsonAsync(
            $"/api/v1/tenants/{tenant}/users/{user}/federated-identities", new { identity_provider_id = foreign, subject = "s-1" })).ReadValidationErrorsAsync());
        Assert.NotEqual("Hijacked", await app.DbAsync(db => db.IdentityProviders.Where(p => p.Id == foreign).Select(p => p.Name).SingleAsync()));
    }

    [Fact]
    public async Task Directory_readers_may_list_providers_and_only_writers_may_change_them()
    {
        var tenant = await app.CreateTenantAsync();
        var id = await CreateProviderAsync(tenant);
        using var viewer = await app.ClientWithRolesAsync(("TENANT_VIEWER", null, tenant));
        using var helpdesk = await app.ClientWithRolesAsync(("TENANT_HELPDESK", null, tenant));
        using var tenantAdmin = await app.ClientWithRolesAsync(("TENANT_ADMIN", null, tenant));
        var url = $"/api/v1/tenants/{tenant}/identity-providers";
        foreach (var reader in new[] { viewer, helpdesk })
        {
            await (await reader.GetAsync(url)).ShouldBeAsync(200);
            await (await reader.GetAsync($"{url}/{id}")).ShouldBeAsync(200);
            await (await reader.PostAsJsonAsync(url, Oidc())).ReadProblemAsync(403);
            await (await reader.PatchAsJsonAsync($"{url}/{id}", new { name = "No" })).ReadProblemAsync(403);
            await (await reader.DeleteAsync($"{url}/{id}")).ReadProblemAsync(403);
        }

        await (await tenantAdmin.PostAsJsonAsync(url, Oidc())).ShouldBeAsync(201);
        var elsewhere = await app.CreateTenantAsync();
        await (await tenantAdmin.GetAsync($"/api/v1/tenants/{elsewhere}/identity-providers")).ReadProblemAsync(403);
    }

    [Fact]
    public async Task A_provider_cannot_be_deleted_while_users_are_linked_to_it()
    {
        var tenant = await app.CreateTenantAsync();
        var provider = await CreateProviderAsync(tenant);
        var user = await app.CreateUserIdAsync(tenant);
        var link = await LinkAsync(tenant, user, provider, "subject-1");
        using var admin = await app.AdminAsync();

        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/identity-providers/{provider}")).ReadProblemAsync(409);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/identity-providers/{provider}")).ShouldBeAsync(200);

        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{user}/federated-identities/{link["id"]!.GetValue<string>()}")).ShouldBeAsync(204);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/identity-providers/{provider}")).ShouldBeAsync(204);
    }

    // ---- federated identities ----

    [Fact]
    public async Task Link_list_include_and_unlink_federated_identities()
    {
        var tenant = await app.CreateTenantAsync();
        var oidc = await CreateProviderAsync(tenant);
        var ldap = await CreateProviderAsync(tenant, new { name = Unique("AD"), type = "LDAP", config = new { url = "ldaps://ad.example.com", base_dn = "dc=ad" } });
        var user = await app.CreateUserIdAsync(tenant);
        using var admin = await app.AdminAsync();
        var url = $"/api/v1/tenants/{tenant}/users/{user}/federated-identities";

        var response = await admin.PostAsJsonAsync(url, new { identity_provider_id = oidc, subject = "00u1abcd" });
        var first = (await response.ReadJsonAsync(201))["data"]!;
        Assert.Equal(oidc, first["identity_provider_id"]!.GetValue<string>());
        Assert.Equal("OIDC", first["identity_provider_type"]!.GetValue<string>());
        Assert.Equal("00u1abcd", first["subject"]!.GetValue<string>());
        Assert.NotNull(first["created_at"]);
        Assert.Equal($"{url}/{first["id"]!.GetValue<string>()}", response.Headers.Location?.OriginalString);
        var second = await LinkAsync(tenant, user, ldap, "CN=Ada Lovelace,OU=Staff,DC=ad");

        var list = await (await admin.GetAsync(url)).ReadJsonAsync(200);
        Assert.Equal([first["id"]!.GetValue<string>(), second["id"]!.GetValue<string>()], list["data"]!.AsArray().Select(l => l!["id"]!.GetValue<string>()));
        Assert.Null(list["pagination"]);

        var got = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}?include=federated_identities")).ReadJsonAsync(200);
        Assert.True(JsonNode.DeepEquals(list["data"], got["data"]!["federated_identities"]), got.ToJsonString());
        Assert.Equal("LOCAL", got["data"]!["identity_source"]!.GetValue<string>());
        got = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ReadJsonAsync(200);
        Assert.Null(got["data"]!["federated_identities"]);

        await (await admin.DeleteAsync($"{url}/{first["id"]!.GetValue<string>()}")).ShouldBeAsync(204);
        await (await admin.DeleteAsync($"{url}/{first["id"]!.GetValue<string>()}")).ReadProblemAsync(404);
        Assert.Equal([second["id"]!.GetValue<string>()], (await (await admin.GetAsync(url)).ReadJsonAsync(200))["data"]!.AsArray().Select(l => l!["id"]!.GetValue<string>()));

        var audit = await app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TargetId == user && e.Action.StartsWith("user.federated_identity"))
            .OrderBy(e => e.CreatedAt).ToListAsync());
        Assert.Equal(["user.federated_identity_linked", "user.federated_identity_linked", "user.federated_identity_unlinked"], audit.Select(e => e.Action));
        Assert.All(audit, e => Assert.Equal("user", e.TargetType));
        Assert.All(audit, e => Assert.Equal(tenant, e.TenantId));
        Assert.DoesNotContain(audit, e => (e.Reason ?? string.Empty).Contains("00u1abcd", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_account_links_to_one_user_and_a_user_to_one_account_per_provider()
    {
        var tenant = await app.CreateTenantAsync();
        var provider = await CreateProviderAsync(tenant);
        var ada = await app.CreateUserIdAsync(tenant);
        var bob = await app.CreateUserIdAsync(tenant);
        await LinkAsync(tenant, ada, provider, "shared-subject");
        using var admin = await app.AdminAsync();

        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{bob}/federated-identities",
            new { identity_provider_id = provider, subject = "shared-subject" })).ReadProblemAsync(409);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{ada}/federated-identities",
            new { identity_provider_id = provider, subject = "another-subject" })).ReadProblemAsync(409);

        // Subjects are opaque: another case is another account.
        await LinkAsync(tenant, bob, provider, "SHARED-SUBJECT");
    }

    [Fact]
    public async Task Link_requests_are_validated_and_need_a_visible_user()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync();
        var provider = await CreateProviderAsync(tenant);
        var user = await app.CreateUserIdAsync(tenant);
        var foreignUser = await app.CreateUserIdAsync(other);
        using var admin = await app.AdminAsync();
        var url = $"/api/v1/tenants/{tenant}/users/{user}/federated-identities";

        Assert.Equal(["body.identity_provider_id|missing", "body.subject|missing"], await (await admin.PostAsJsonAsync(url, new { })).ReadValidationErrorsAsync());
        Assert.Equal(["body.subject|string_too_short"], await (await admin.PostAsJsonAsync(url, new { identity_provider_id = provider, subject = "" })).ReadValidationErrorsAsync());
        Assert.Equal(["body.subject|string_too_long"], await (await admin.PostAsJsonAsync(url, new { identity_provider_id = provider, subject = new string('x', 501) })).ReadValidationErrorsAsync());
        Assert.Contains("body.user_id|extra_forbidden", await (await admin.PostAsJsonAsync(url, new { identity_provider_id = provider, subject = "s", user_id = foreignUser })).ReadValidationErrorsAsync());
        Assert.Equal(["body.identity_provider_id|value_error"], await (await admin.PostAsJsonAsync(url, new { identity_provider_id = Guid.NewGuid().ToString(), subject = "s" })).ReadValidationErrorsAsync());
        await (await admin.PostAsJsonAsync(url, new { identity_provider_id = provider, subject = new string('x', 500) })).ShouldBeAsync(201);

        // Users of other tenants and unknown users are 404 on every link route.
        foreach (var missing in new[] { foreignUser, Guid.NewGuid().ToString() })
        {
            var missingUrl = $"/api/v1/tenants/{tenant}/users/{missing}/federated-identities";
            await (await admin.PostAsJsonAsync(missingUrl, new { identity_provider_id = provider, subject = "s-404" })).ReadProblemAsync(404);
            await (await admin.GetAsync(missingUrl)).ReadProblemAsync(404);
            await (await admin.DeleteAsync($"{missingUrl}/{Guid.NewGuid()}")).ReadProblemAsync(404);
        }

        Assert.Equal(0, await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.UserId == foreignUser)));
    }

    [Fact]
    public async Task Readers_may_list_links_and_only_user_writers_may_change_them()
    {
        var tenant = await app.CreateTenantAsync();
        var provider = await CreateProviderAsync(tenant);
        var user = await app.CreateUserIdAsync(tenant);
        var link = await LinkAsync(tenant, user, provider, "reader-subject");
        using var helpdesk = await app.ClientWithRolesAsync(("TENANT_HELPDESK", null, tenant));
        var url = $"/api/v1/tenants/{tenant}/users/{user}/federated-identities";
        await (await helpdesk.GetAsync(url)).ShouldBeAsync(200);
        await (await helpdesk.PostAsJsonAsync(url, new { identity_provider_id = provider, subject = "other" })).ReadProblemAsync(403);
        await (await helpdesk.DeleteAsync($"{url}/{link["id"]!.GetValue<string>()}")).ReadProblemAsync(403);
    }

    [Fact]
    public async Task Deleting_a_user_removes_its_links_assignments_and_roles_and_frees_its_subject()
    {
        var tenant = await app.CreateTenantAsync();
        var provider = await CreateProviderAsync(tenant);
        var email = $"leaver.{Guid.NewGuid():N}@example.com";
        var leaver = await app.CreateUserIdAsync(tenant, email);
        var stayer = await app.CreateUserIdAsync(tenant);
        await LinkAsync(tenant, leaver, provider, "reused-subject");
        await LinkAsync(tenant, stayer, provider, "stayer-subject");
        var applicationId = Guid.CreateVersion7().ToString();
        await app.DbAsync(db =>
        {
            db.Applications.Add(new Application
            {
                Id = applicationId, TenantId = tenant, Name = Unique("App"), Type = "SERVICE", ClientId = "app-" + Guid.NewGuid().ToString("N"),
                RedirectUrisJson = "[]", GrantTypesJson = """["client_credentials"]""", CreatedAt = DateTime.UtcNow,
            });
            foreach (var userId in new[] { leaver, stayer })
            {
                db.ApplicationAssignments.Add(new ApplicationAssignment
                {
                    Id = Guid.CreateVersion7().ToString(), TenantId = tenant, ApplicationId = applicationId, UserId = userId, CreatedAt = DateTime.UtcNow,
                });
                db.RoleAssignments.Add(new RoleAssignment
                {
                    Id = Guid.CreateVersion7().ToString(), PrincipalType = "USER", PrincipalId = userId, Role = "TENANT_VIEWER", TenantId = tenant, CreatedAt = DateTime.UtcNow,
                });
            }

            return db.SaveChangesAsync();
        });

        using var admin = await app.AdminAsync();
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{leaver}?confirm_email={Uri.EscapeDataString(email)}")).ShouldBeAsync(204);

        Assert.Equal(0, await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.UserId == leaver)));
        Assert.Equal(0, await app.DbAsync(db => db.ApplicationAssignments.CountAsync(a => a.UserId == leaver)));
        Assert.Equal(0, await app.DbAsync(db => db.RoleAssignments.CountAsync(r => r.PrincipalType == "USER" && r.PrincipalId == leaver)));
        Assert.Equal(1, await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.UserId == stayer)));
        Assert.Equal(1, await app.DbAsync(db => db.ApplicationAssignments.CountAsync(a => a.UserId == stayer)));
        Assert.Equal(1, await app.DbAsync(db => db.RoleAssignments.CountAsync(r => r.PrincipalType == "USER" && r.PrincipalId == stayer)));

        // The deleted user cannot be linked again; the account at the provider can now belong to someone else.
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{leaver}/federated-identities",
            new { identity_provider_id = provider, subject = "late-subject" })).ReadProblemAsync(404);
        var successor = await app.CreateUserIdAsync(tenant, email);
        var link = await LinkAsync(tenant, successor, provider, "reused-subject");
        Assert.Equal("reused-subject", link["subject"]!.GetValue<string>());
    }
}
