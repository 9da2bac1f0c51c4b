using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.Cli;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Password hashes imported from other systems (Argon2 with any parameters, bcrypt, PBKDF2 in PHC, passlib and Django
/// spellings): the password grant accepts them, re-hashes to our Argon2id on success, and keeps them on failure.
/// </summary>
public sealed class ForeignPasswordHashTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Correct-Horse-7";

    // Fixed vectors from outside .NET: the Argon2 reference implementation's test suite and README, OpenBSD's bcrypt
    // tests, and Python's hashlib.pbkdf2_hmac (formatted as PHC, passlib and Django do).
    private static readonly Dictionary<string, (string Password, string Hash)> Fixed = new()
    {
        ["argon2id-reference"] = ("password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"),
        ["argon2i-reference-p4"] = ("password", "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"),
        ["bcrypt-openbsd"] = ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
        ["pbkdf2-sha256-phc-hashlib"] = (Password, "$pbkdf2-sha256$i=10000,l=32$MDEyMzQ1Njc4OWFiY2RlZg$a8tU5I3Rg5Qgk8CXukbwoq7P08SjIwdmzIbzvIBDDF4"),
        ["pbkdf2-sha512-phc-hashlib"] = (Password,
            "$pbkdf2-sha512$i=10000,l=64$MDEyMzQ1Njc4OWFiY2RlZg$gQAORkHFbTo9nmlJlfdk4KMnsZGAYAEVNEgJFrW/X0gQrLFLry8QIqzckQ1Y9mjfa4Z0wpxqyS0LsKB9vPVHcA"),
        ["pbkdf2-sha256-passlib-hashlib"] = (Password, "$pbkdf2-sha256$29000$yMnKy8zNzs/Q0dLT1NXW1w$I3fYiTCiRNMZo7Y1KVnWC//HOL9BMbrYkMI9Fz9RPbE"),
        ["pbkdf2-sha512-passlib-hashlib"] = (Password,
            "$pbkdf2-sha512$25000$yMnKy8zNzs/Q0dLT1NXW1w$y3rm858RO.UGQO7I1eWY26Ugm.fCdluKgNay6tiwfP1ssk7RM323/SpuDgG5zo3r3n8xiLfzkQrLj7.nKYuo2w"),
        ["pbkdf2-sha256-django-hashlib"] = (Password, "pbkdf2_sha256$260000$seasaltXYZ12$+U3KoSLSxKPi510pcZg/FBPhARliuBfOkJpAbkZbils="),
        ["pbkdf2-sha512-django-hashlib"] = (Password,
            "pbkdf2_sha512$12000$seasaltXYZ12$L6McpUyMFCX2F/xFSJuLpbabM18k/zl3gWfUFhxMfZOT4bTnsRhckLfOVvQJNfrw9Nccs0GzSydwG9blN32v8Q=="),
    };

    public static TheoryData<string> FixedKinds => new(Fixed.Keys);

    public static TheoryData<string> GeneratedKinds => new(
        "argon2id-p4", "argon2id-p1-other-cost", "bcrypt-2a", "bcrypt-2b", "bcrypt-2y", "pbkdf2-sha256-phc", "pbkdf2-sha512-phc",
        "pbkdf2-sha256-passlib", "pbkdf2-sha512-passlib", "pbkdf2-sha256-django", "pbkdf2-sha512-django");

    /// <summary>A hash of <see cref="Password"/> made here with the algorithm's own library, fresh salt each time.</summary>
    private static string Generate(string kind)
    {
        var password = Encoding.UTF8.GetBytes(Password);
        var salt = RandomNumberGenerator.GetBytes(16);
        static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=');
        static string Ab64(byte[] b) => B64(b).Replace('+', '.');
        switch (kind)
        {
            case "argon2id-p4":
                using (var argon = new Konscious.Security.Cryptography.Argon2id(password) { Salt = salt, DegreeOfParallelism = 4, Iterations = 3, MemorySize = 8192 })
                {
                    return $"$argon2id$v=19$m=8192,t=3,p=4${B64(salt)}${B64(argon.GetBytes(32))}";
                }

            case "argon2id-p1-other-cost":
                return new PasswordHasher(iterations: 3, memoryBytes: 8 * 1024 * 1024).Hash(Password);
            case "bcrypt-2a" or "bcrypt-2b" or "bcrypt-2y":
                return BCrypt.Net.BCrypt.HashPassword(Password, BCrypt.Net.BCrypt.GenerateSalt(5, kind[^1]));
            case "pbkdf2-sha256-phc":
                return $"$pbkdf2-sha256$i=20000,l=32${B64(salt)}${B64(Rfc2898DeriveBytes.Pbkdf2(password, salt, 20000, HashAlgorithmName.SHA256, 32))}";
            case "pbkdf2-sha512-phc":
                return $"$pbkdf2-sha512$i=20000,l=64${B64(salt)}${B64(Rfc2898DeriveBytes.Pbkdf2(password, salt, 20000, HashAlgorithmName.SHA512, 64))}";
            case "pbkdf2-sha256-passlib":
                return $"$pbkdf2-sha256$29000${Ab64(salt)}${Ab64(Rfc2898DeriveBytes.Pbkdf2(password, salt, 29000, HashAlgorithmName.SHA256, 32))}";
            case "pbkdf2-sha512-passlib":
                return $"$pbkdf2-sha512$25000${Ab64(salt)}${Ab64(Rfc2898DeriveBytes.Pbkdf2(password, salt, 25000, HashAlgorithmName.SHA512, 64))}";
            case "pbkdf2-sha256-django" or "pbkdf2-sha512-django":
                var text = Convert.ToHexStringLower(salt)[..22];
                var sha512 = kind.Contains("512", StringComparison.Ordinal);
                var derived = Rfc2898DeriveBytes.Pbkdf2(password, Encoding.UTF8.GetBytes(text), 30000,
                    sha512 ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256, sha512 ? 64 : 32);
                return $"pbkdf2_{(sha512 ? "sha512" : "sha256")}$30000${text}${Convert.ToBase64String(derived)}";
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private sealed record Client(string TenantId, string ClientId, string Secret);

    private Client? _client;

    private async Task<Client> ClientAsync()
    {
        if (_client is not null)
        {
            return _client;
        }

        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var created = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/applications", new
        {
            name = "Migrated portal", type = "WEB", redirect_uris = new[] { "https://portal.example.com/cb" },
            grant_types = new[] { "authorization_code", "refresh_token", "password" },
        })).ReadJsonAsync(201))["data"]!;
        return _client = new Client(tenant, created["client_id"]!.GetValue<string>(), created["client_secret"]!.GetValue<string>());
    }

    private async Task<HttpResponseMessage> SignInAsync(Client client, string email, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["username"] = email, ["password"] = password, ["scope"] = "openid",
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{client.ClientId}:{client.Secret}")));
        return await app.Anonymous().SendAsync(request);
    }

    private Task<string?> StoredHashAsync(string tenant, string email) =>
        app.DbAsync(db => db.Users.Where(u => u.TenantId == tenant && u.EmailNormalized == email).Select(u => u.PasswordHash).SingleAsync());

    private async Task ImportAsync(string tenant, params object[] rows)
    {
        var file = Path.Combine(app.WorkFolder(), "hashes.jsonl");
        await File.WriteAllLinesAsync(file, rows.Select(r => JsonSerializer.Serialize(r)));
        var result = await app.RunCliAsync(["import", "--tenant", tenant, file]);
        Assert.True(result.ExitCode == 0, result.Error + string.Join("\n", File.ReadAllLines(file + ".errors.jsonl")));
    }

    private async Task SignsInAndUpgradesAsync(string hash, string password)
    {
        var client = await ClientAsync();
        var email = $"m{Guid.NewGuid():N}@example.com";
        await ImportAsync(client.TenantId, new { email, password_hash = hash });
        Assert.Equal(ScaiKey.Data.Entities.UserStatus.Active, await app.DbAsync(db => db.Users.Where(u => u.EmailNormalized == email).Select(u => u.Status).SingleAsync()));

        // A wrong password fails and leaves the foreign hash as it was.
        var wrong = await (await SignInAsync(client, email, password + "-wrong")).ReadJsonAsync(400);
        Assert.Equal("invalid_grant", wrong["error"]!.GetValue<string>());
        Assert.Equal(hash, await StoredHashAsync(client.TenantId, email));

        // The right one signs in, and the stored hash becomes the service's own Argon2id.
        await (await SignInAsync(client, email, password)).ReadJsonAsync(200);
        var upgraded = await StoredHashAsync(client.TenantId, email);
        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", upgraded, StringComparison.Ordinal);
        Assert.False(app.Host.Services.GetRequiredService<PasswordHasher>().NeedsRehash(upgraded!));
        await (await SignInAsync(client, email, password)).ReadJsonAsync(200);
    }

    [Theory]
    [MemberData(nameof(GeneratedKinds))]
    public Task A_generated_foreign_hash_signs_in_and_is_upgraded(string kind) => SignsInAndUpgradesAsync(Generate(kind), Password);

    [Theory]
    [MemberData(nameof(FixedKinds))]
    public Task A_known_vector_signs_in_and_is_upgraded(string name) => SignsInAndUpgradesAsync(Fixed[name].Hash, Fixed[name].Password);

    [Fact]
    public void Every_foreign_hash_needs_a_rehash_and_only_known_formats_are_recognized()
    {
        var hasher = app.Host.Services.GetRequiredService<PasswordHasher>();
        foreach (var (_, hash) in Fixed.Values)
        {
            Assert.True(hasher.NeedsRehash(hash), hash);
            Assert.True(PasswordHasher.IsSupported(hash), hash);
        }

        Assert.False(hasher.NeedsRehash(hasher.Hash(Password)));
        Assert.True(PasswordHasher.IsSupported(hasher.Hash(Password)));
        Assert.Null(ForeignPasswordHashes.Recognize("5f4dcc3b5aa765d61d8327deb882cf99")); // unsalted MD5
        Assert.Null(ForeignPasswordHashes.Recognize("$1$saltsalt$qjXMvbEw8oaL.CzflDugX/"));  // md5-crypt
        Assert.Null(ForeignPasswordHashes.Recognize("$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")); // 4 GiB
        Assert.Null(ForeignPasswordHashes.Recognize("$pbkdf2-sha256$i=0,l=32$MDEyMzQ1Njc4OWFiY2RlZg$a8tU5I3Rg5Qgk8CXukbwoq7P08SjIwdmzIbzvIBDDF4"));
        Assert.Null(ForeignPasswordHashes.Recognize("$pbkdf2-sha256$i=10000,l=31$MDEyMzQ1Njc4OWFiY2RlZg$a8tU5I3Rg5Qgk8CXukbwoq7P08SjIwdmzIbzvIBDDF4"));
        Assert.Null(ForeignPasswordHashes.Recognize("$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
        Assert.Null(ForeignPasswordHashes.Recognize("$2a$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
    }

    [Fact]
    public async Task Import_refuses_unknown_hash_formats_and_a_password_together_with_a_hash()
    {
        var tenant = await app.CreateTenantAsync();
        var file = Path.Combine(app.WorkFolder(), "bad-hashes.jsonl");
        await File.WriteAllLinesAsync(file,
        [
            JsonSerializer.Serialize(new { email = "md5@example.com", password_hash = "5f4dcc3b5aa765d61d8327deb882cf99" }),
            JsonSerializer.Serialize(new { email = "both@example.com", password = "Quartz-Lantern-93!", password_hash = Fixed["bcrypt-openbsd"].Hash }),
            JsonSerializer.Serialize(new { email = "fine@example.com", password_hash = Fixed["bcrypt-openbsd"].Hash }),
        ]);

        var result = await app.RunCliAsync(["import", "--tenant", tenant, file]);
        Assert.Equal(CliRunner.CompletedWithRejectedRows, result.ExitCode);
        var report = CliHarness.ErrorReport(file + ".errors.jsonl");
        Assert.Equal([1, 2], report.Select(r => r["line"]!.GetValue<int>()).ToArray());
        Assert.All(report, r => Assert.Equal("password_hash", Assert.Single(r["detail"]!.AsArray())!["loc"]![0]!.GetValue<string>()));
        Assert.DoesNotContain("5f4dcc3b", File.ReadAllText(file + ".errors.jsonl"), StringComparison.Ordinal); // no hash echoed
        Assert.Equal(["fine@example.com"], await app.DbAsync(db => db.Users.Where(u => u.TenantId == tenant).Select(u => u.EmailNormalized).ToListAsync()));
    }
    [Fact]
    public async Task Import_refuses_hashes_above_the_cost_caps_with_a_row_error_each()
    {
        const string Salt = "c29tZXNhbHQ";
        const string Tag = "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
        var bcrypt = Fixed["bcrypt-openbsd"].Hash; // cost 05
        var tooCostly = new[]
        {
            ($"$argon2id$v=19$m=131072,t=2,p=1${Salt}${Tag}", "m ≤ 65536 KiB"),
            ($"$argon2id$v=19$m=19456,t=11,p=1${Salt}${Tag}", "t ≤ 10"),
            ($"$argon2i$v=19$m=65536,t=2,p=16${Salt}${Tag}", "p ≤ 8"),
            (bcrypt.Replace("$05$", "$15$", StringComparison.Ordinal), "cost ≤ 14"),
            ("$pbkdf2-sha256$i=2000001,l=32$MDEyMzQ1Njc4OWFiY2RlZg$a8tU5I3Rg5Qgk8CXukbwoq7P08SjIwdmzIbzvIBDDF4", "≤ 2000000 iterations"),
        };
        var atTheCaps = new[]
        {
            $"$argon2id$v=19$m=65536,t=10,p=8${Salt}${Tag}",
            bcrypt.Replace("$05$", "$14$", StringComparison.Ordinal),
            "$pbkdf2-sha256$i=2000000,l=32$MDEyMzQ1Njc4OWFiY2RlZg$a8tU5I3Rg5Qgk8CXukbwoq7P08SjIwdmzIbzvIBDDF4",
        };

        var tenant = await app.CreateTenantAsync();
        var file = Path.Combine(app.WorkFolder(), "costly-hashes.jsonl");
        await File.WriteAllLinesAsync(file, tooCostly.Select((h, i) => JsonSerializer.Serialize(new { email = $"costly{i}@example.com", password_hash = h.Item1 }))
            .Concat(atTheCaps.Select((h, i) => JsonSerializer.Serialize(new { email = $"capped{i}@example.com", password_hash = h }))));

        var result = await app.RunCliAsync(["import", "--tenant", tenant, file]);
        Assert.Equal(CliRunner.CompletedWithRejectedRows, result.ExitCode);
        var report = CliHarness.ErrorReport(file + ".errors.jsonl");
        Assert.Equal([1, 2, 3, 4, 5], report.Select(r => r["line"]!.GetValue<int>()).ToArray());
        foreach (var (row, (_, cap)) in report.Zip(tooCostly))
        {
            var detail = Assert.Single(row["detail"]!.AsArray())!;
            Assert.Equal("password_hash", detail["loc"]![0]!.GetValue<string>());
            Assert.Equal("value_error", detail["type"]!.GetValue<string>());
            Assert.Contains("cost above the cap", detail["msg"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains(cap, detail["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.DoesNotContain(Tag, File.ReadAllText(file + ".errors.jsonl"), StringComparison.Ordinal); // no hash echoed
        Assert.Equal(["capped0@example.com", "capped1@example.com", "capped2@example.com"],
            await app.DbAsync(db => db.Users.Where(u => u.TenantId == tenant).Select(u => u.EmailNormalized).OrderBy(e => e).ToListAsync()));

        // A hash above the caps that is already stored never costs a verification: it does not verify.
        Assert.All(tooCostly, h => Assert.Null(ForeignPasswordHashes.Recognize(h.Item1)));
        Assert.All(atTheCaps, h => Assert.Null(ForeignPasswordHashes.CostRefusal(h)));
        Assert.False(ForeignPasswordHashes.Verify($"$argon2id$v=19$m=4194304,t=2,p=1${Salt}${Tag}", "password"));
    }
}
