using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>/healthz (the process) and /readyz (database, migrations, key ring, outbox) through the health-check service.</summary>
public sealed class HealthTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task Ready_reports_each_check_and_live_needs_nothing()
    {
        using var client = app.Host.CreateClient();
        Assert.Equal("ok", (await (await client.GetAsync("/healthz")).ReadJsonAsync(200))["status"]!.GetValue<string>());
        var ready = await (await client.GetAsync("/readyz")).ReadJsonAsync(200);
        Assert.Equal("ok", ready["status"]!.GetValue<string>());
        foreach (var check in new[] { "database", "migrations", "key_ring", "outbox" })
        {
            Assert.Equal("ok", ready["checks"]![check]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_stuck_outbox_degrades_readiness_without_making_the_instance_unready()
    {
        await app.DbAsync(db =>
        {
            db.EmailOutbox.Add(new EmailOutboxMessage
            {
                Id = Guid.NewGuid().ToString(), ToAddress = "stuck@example.com", Subject = "s", Body = "b", Kind = "test",
                CreatedAt = DateTime.UtcNow.AddMinutes(-30),
            });
            return db.SaveChangesAsync();
        });

        // An SMTP host nobody listens on, and a round far in the future, so nothing sends the message meanwhile.
        var host = app.StartHost(b =>
        {
            b.UseSetting("ScaiKey:Smtp:Host", "127.0.0.1");
            b.UseSetting("ScaiKey:Smtp:Port", "9");
            b.UseSetting("ScaiKey:Smtp:PollSeconds", "3600");
        });
        using var client = host.CreateClient();
        var ready = await (await client.GetAsync("/readyz")).ReadJsonAsync(200);
        Assert.Equal("degraded", ready["status"]!.GetValue<string>());
        Assert.Equal("degraded", ready["checks"]!["outbox"]!.GetValue<string>());
        Assert.DoesNotContain("stuck@example.com", ready.ToJsonString(), StringComparison.Ordinal);
        await app.StopHostAsync(host);
        await app.DbAsync(db => db.EmailOutbox.Where(m => m.ToAddress == "stuck@example.com").ExecuteDeleteAsync());
    }

    [Fact]
    public async Task A_database_missing_a_migration_makes_the_instance_unready()
    {
        using var client = app.Host.CreateClient();
        var last = await app.DbAsync(db => db.Database.GetAppliedMigrationsAsync());
        var id = last.Last();
        // The provider's own history statements (table and column names follow the naming convention).
        await app.DbAsync(db => db.Database.ExecuteSqlRawAsync(db.GetService<IHistoryRepository>().GetDeleteScript(id)));
        try
        {
            var response = await client.GetAsync("/readyz");
            var body = await response.ReadJsonAsync(503);
            Assert.Equal("unavailable", body["status"]!.GetValue<string>());
            Assert.Equal("unavailable", body["checks"]!["migrations"]!.GetValue<string>());
            Assert.Equal("ok", body["checks"]!["database"]!.GetValue<string>());
            Assert.DoesNotContain(id, body.ToJsonString(), StringComparison.Ordinal);
        }
        finally
        {
            var product = typeof(DbContext).Assembly.GetName().Version!;
            var row = new HistoryRow(id, $"{product.Major}.{product.Minor}.{product.Build}");
            await app.DbAsync(db => db.Database.ExecuteSqlRawAsync(db.GetService<IHistoryRepository>().GetInsertScript(row)));
        }

        Assert.Equal("ok", (await (await client.GetAsync("/readyz")).ReadJsonAsync(200))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_database_that_went_away_makes_the_instance_unready_while_it_stays_live()
    {
        // An instance of its own on a database of its own, which is then removed under it for real: PostgreSQL's is
        // dropped (its sessions ended), SQLite's file deleted with its folder (so no connection creates it again).
        var database = await TestDatabase.CreateMigratedAsync();
        var host = new ScaiKeyHost(database, configure: null);
        try
        {
            using var client = host.CreateClient();
            Assert.Equal("ok", (await (await client.GetAsync("/readyz")).ReadJsonAsync(200))["checks"]!["database"]!.GetValue<string>()); // control

            await database.RemoveAsync();
            var body = await (await client.GetAsync("/readyz")).ReadJsonAsync(503);
            Assert.Equal("unavailable", body["status"]!.GetValue<string>());
            Assert.Equal("unavailable", body["checks"]!["database"]!.GetValue<string>());
            Assert.Equal("ok", body["checks"]!["key_ring"]!.GetValue<string>());
            Assert.Equal("ok", (await (await client.GetAsync("/healthz")).ReadJsonAsync(200))["status"]!.GetValue<string>());
        }
        finally
        {
            await host.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    /// <summary>
    /// A second instance on the same database with another key-encryption key: it starts, seals and opens its own
    /// values, but cannot open the stored token keys, so it must not take traffic (every token and secret check would
    /// fail). Before the check read a stored key, /readyz said ok here.
    /// </summary>
    [Fact]
    public async Task An_instance_whose_key_encryption_key_does_not_open_the_stored_keys_is_not_ready()
    {
        var database = await TestDatabase.CreateMigratedAsync();
        var right = new ScaiKeyHost(database, configure: null);
        var wrongKey = Convert.ToBase64String(Enumerable.Range(101, 32).Select(i => (byte)i).ToArray());
        var wrong = new ScaiKeyHost(database, b => b.UseSetting("ScaiKey:KeyEncryptionKey", wrongKey));
        try
        {
            using var rightClient = right.CreateClient();
            Assert.Equal("ok", (await (await rightClient.GetAsync("/readyz")).ReadJsonAsync(200))["checks"]!["key_ring"]!.GetValue<string>()); // control
            // A token makes the instance create and store its token keys (they are made on first use).
            await ScaiKeyApp.GetTokenAsync(right, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
            await using (var scope = right.Services.CreateAsyncScope())
            {
                Assert.True(await scope.ServiceProvider.GetRequiredService<ScaiKey.Data.ScaiKeyDbContext>().SigningKeys.AnyAsync(), "the first instance stored no token key");
            }

            using var wrongClient = wrong.CreateClient();
            var body = await (await wrongClient.GetAsync("/readyz")).ReadJsonAsync(503);
            Assert.Equal("unavailable", body["checks"]!["key_ring"]!.GetValue<string>());
            Assert.Equal("ok", body["checks"]!["database"]!.GetValue<string>());
            Assert.Equal("ok", (await (await wrongClient.GetAsync("/healthz")).ReadJsonAsync(200))["status"]!.GetValue<string>());
        }
        finally
        {
            await wrong.DisposeAsync();
            await right.DisposeAsync();
            await database.DisposeAsync();
        }
    }
}
