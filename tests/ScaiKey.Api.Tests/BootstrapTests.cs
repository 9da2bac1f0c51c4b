using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.Security;
using ScaiKey.Data;

namespace ScaiKey.Api.Tests;

/// <summary>First start without configured credentials: one admin client, its secret printed once, never again.</summary>
[Collection(ConsoleCollection.Name)]
public sealed partial class BootstrapTests
{
    private static async Task<(string Output, ScaiKeyHost Host)> StartCapturingConsoleAsync(TestDatabase database, Action<IWebHostBuilder> configure)
    {
        var original = Console.Out;
        using var writer = new StringWriter();
        Console.SetOut(writer);
        try
        {
            var host = new ScaiKeyHost(database, configure);
            _ = host.Server;
            await Task.Yield();
            return (writer.ToString(), host);
        }
        finally
        {
            Console.SetOut(original);
        }
    }

    private static void WithoutBootstrapClient(IWebHostBuilder builder)
    {
        builder.UseSetting("ScaiKey:Bootstrap:ClientId", "");
        builder.UseSetting("ScaiKey:Bootstrap:ClientSecret", "");
    }

    [Fact]
    public async Task Without_configured_credentials_a_client_is_generated_and_printed_once()
    {
        await using var database = await TestDatabase.CreateAsync();
        var (output, host) = await StartCapturingConsoleAsync(database, WithoutBootstrapClient);
        string clientId, secret;
        await using (host)
        {
            clientId = ClientIdLine().Match(output).Groups[1].Value;
            secret = SecretLine().Match(output).Groups[1].Value;
            Assert.StartsWith("scaikey-admin-", clientId);
            Assert.True(secret.Length >= 32, output);

            // The printed credentials are a working platform admin.
            var token = await ScaiKeyApp.GetTokenAsync(host, clientId, secret);
            using var client = host.CreateClient();
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
            await (await client.GetAsync("/api/v1/admin/tenants")).ShouldBeAsync(200);
        }

        var (secondOutput, second) = await StartCapturingConsoleAsync(database, WithoutBootstrapClient);
        await using (second)
        {
            Assert.DoesNotContain("client_secret", secondOutput);
            Assert.DoesNotContain(secret, secondOutput);
            await using var scope = second.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
            Assert.Equal(1, await db.RoleAssignments.CountAsync(r => r.Role == Roles.PlatformAdmin));
        }
    }

    [Fact]
    public async Task Configured_admin_email_and_password_create_a_platform_admin_user()
    {
        await using var database = await TestDatabase.CreateAsync();
        var (output, host) = await StartCapturingConsoleAsync(database, b =>
        {
            WithoutBootstrapClient(b);
            b.UseSetting("ScaiKey:Bootstrap:AdminEmail", "root@example.com");
            b.UseSetting("ScaiKey:Bootstrap:AdminPassword", "Quartz-Lantern-93!");
        });
        await using (host)
        {
            Assert.DoesNotContain("client_secret", output);
            Assert.DoesNotContain("Quartz-Lantern-93!", output);
            await using var scope = host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
            var user = await db.Users.SingleAsync(u => u.EmailNormalized == "root@example.com");
            Assert.StartsWith("$argon2id$", user.PasswordHash);
            var grant = await db.RoleAssignments.SingleAsync(r => r.Role == Roles.PlatformAdmin);
            Assert.Equal(("USER", user.Id), (grant.PrincipalType, grant.PrincipalId));
            Assert.Equal("platform", (await db.Tenants.SingleAsync(t => t.Id == user.TenantId)).Slug);
        }
    }

    [GeneratedRegex(@"client_id:\s+(\S+)")]
    private static partial Regex ClientIdLine();

    [GeneratedRegex(@"client_secret:\s+(\S+)")]
    private static partial Regex SecretLine();
}

/// <summary>Tests that redirect Console.Out run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "Console";
}
