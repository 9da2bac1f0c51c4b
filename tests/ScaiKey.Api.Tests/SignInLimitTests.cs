using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Issue 13, point 6: the abuse limits count failures, not successes (an office behind one NAT, or one busy
/// account, is never refused; the 61st failure a minute from one address is), keyed as the user lookup normalizes
/// the email. Point 11: a full hashing queue answers 503 with Retry-After at once instead of queuing.
/// </summary>
public sealed class SignInLimitTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Quartz-Lantern-93!";
    private const string WrongPassword = "Wrong-Lantern-11!";

    /// <summary>A host with the production limits (60 failures per address, 10 per account) and cheap hashes.</summary>
    private ScaiKeyHost LimitedHost(Action<IWebHostBuilder>? configure = null) => app.StartHost(b =>
    {
        b.UseSetting("ScaiKey:RateLimits:PerIpPerMinute", "60");
        b.UseSetting("ScaiKey:RateLimits:PerAccountPerMinute", "10");
        b.UseSetting("ScaiKey:PasswordHashing:Iterations", "1");
        b.UseSetting("ScaiKey:PasswordHashing:MemoryKiB", "1024");
        ClientAddress.Use(b);
        configure?.Invoke(b);
    });

    private static async Task<HttpClient> AdminOfAsync(ScaiKeyHost host)
    {
        var admin = host.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            await ScaiKeyApp.GetTokenAsync(host, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret));
        return admin;
    }

    /// <summary>Users made by <paramref name="host"/>, so their hashes have its (cheap) parameters.</summary>
    private static async Task CreateUsersAsync(ScaiKeyHost host, string tenantId, IEnumerable<string> emails)
    {
        using var admin = await AdminOfAsync(host);
        foreach (var email in emails)
        {
            await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/users", new { email, password = Password })).ShouldBeAsync(201);
        }
    }

    private static async Task AssertLimitedAsync(HttpResponseMessage response)
    {
        var problem = await response.ReadProblemAsync(429);
        Assert.Equal("urn:scaikey:problem:too-many-requests", problem["type"]!.GetValue<string>());
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "no Retry-After");
    }

    [Fact]
    public async Task An_office_of_seventy_behind_one_address_signs_in_without_a_429_but_the_61st_failure_is_refused()
    {
        var host = LimitedHost();
        try
        {
            var client = await SignInOracleTests.PasswordGrantClientAsync(app);
            var staff = Enumerable.Range(0, 70).Select(i => $"staff{i}@example.com").ToList();
            await CreateUsersAsync(host, client.TenantId, staff);
            using var http = host.CreateClient();
            foreach (var email in staff)
            {
                await (await client.SignInAsync(http, email, Password, clientIp: "203.0.113.10")).ReadJsonAsync(200);
            }

            // Failures from the same address: 60 are answered, the 61st is refused before any check.
            for (var i = 0; i < 60; i++)
            {
                await (await client.SignInAsync(http, $"guess{i}@example.com", WrongPassword, clientIp: "203.0.113.10")).ShouldBeAsync(400);
            }

            await AssertLimitedAsync(await client.SignInAsync(http, "staff0@example.com", Password, clientIp: "203.0.113.10"));

            // Control: another address is not limited by this one's failures.
            await (await client.SignInAsync(http, "staff0@example.com", Password, clientIp: "203.0.113.11")).ReadJsonAsync(200);
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task One_account_signing_in_thirty_times_a_minute_is_not_limited_but_its_eleventh_failure_is()
    {
        var host = LimitedHost();
        try
        {
            var client = await SignInOracleTests.PasswordGrantClientAsync(app, maxFailures: 100);
            await CreateUsersAsync(host, client.TenantId, ["robot@example.com"]);
            using var http = host.CreateClient();
            for (var i = 0; i < 30; i++)
            {
                await (await client.SignInAsync(http, "robot@example.com", Password, clientIp: "198.51.100.1")).ReadJsonAsync(200);
            }

            // Ten failures from ten addresses, then even the right password is refused for this account.
            for (var i = 0; i < 10; i++)
            {
                await (await client.SignInAsync(http, "robot@example.com", WrongPassword, clientIp: $"198.51.100.{20 + i}")).ShouldBeAsync(400);
            }

            await AssertLimitedAsync(await client.SignInAsync(http, "robot@example.com", Password, clientIp: "198.51.100.99"));
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task Unicode_and_punycode_spellings_of_one_mailbox_share_one_bucket()
    {
        var host = LimitedHost();
        try
        {
            var client = await SignInOracleTests.PasswordGrantClientAsync(app, maxFailures: 100);
            await CreateUsersAsync(host, client.TenantId, ["j\u00fcrgen@b\u00fccher.de", "other@example.com"]);
            using var http = host.CreateClient();
            // NFC, NFD (u + combining diaeresis), the domain's punycode, and upper case: one mailbox.
            var spellings = new[] { "j\u00fcrgen@b\u00fccher.de", "ju\u0308rgen@bu\u0308cher.de", "j\u00fcrgen@xn--bcher-kva.de", "J\u00dcRGEN@B\u00dcCHER.DE" };
            for (var i = 0; i < 10; i++)
            {
                await (await client.SignInAsync(http, spellings[i % spellings.Length], WrongPassword, clientIp: $"192.0.2.{30 + i}")).ShouldBeAsync(400);
            }

            await AssertLimitedAsync(await client.SignInAsync(http, "JU\u0308RGEN@xn--bcher-kva.de", Password, clientIp: "192.0.2.201"));

            // Control: another mailbox keeps its allowance.
            await (await client.SignInAsync(http, "other@example.com", Password, clientIp: "192.0.2.201")).ReadJsonAsync(200);
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task Every_spelling_of_one_mailbox_shares_one_bucket_on_both_sign_in_paths()
    {
        var host = LimitedHost();
        try
        {
            var client = await SignInOracleTests.PasswordGrantClientAsync(app, maxFailures: 100);
            await CreateUsersAsync(host, client.TenantId, ["casey@example.com", "other@example.com"]);
            using var http = host.CreateClient();
            using var browser = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
            var html = await (await browser.GetAsync($"/t/{client.Slug}/login")).Content.ReadAsStringAsync();
            var spellings = new[] { "casey@example.com", "Casey@Example.com", " CASEY@EXAMPLE.COM ", "casey@EXAMPLE.com", "cAsEy@example.com" };
            for (var i = 0; i < 10; i++)
            {
                var email = spellings[i % spellings.Length];
                if (i % 2 == 0)
                {
                    await (await client.SignInAsync(http, email, WrongPassword, clientIp: $"192.0.2.{10 + i}")).ShouldBeAsync(400);
                }
                else
                {
                    using var form = Forms.From(html, ("email", email), ("password", WrongPassword));
                    form.Headers.Add(ClientAddress.Header, $"192.0.2.{10 + i}");
                    Assert.Equal(HttpStatusCode.OK, (await browser.PostAsync($"/t/{client.Slug}/login", form)).StatusCode);
                }
            }

            await AssertLimitedAsync(await client.SignInAsync(http, "CASEY@example.COM", Password, clientIp: "192.0.2.200"));
            using var limitedForm = Forms.From(html, ("email", "Casey@example.com"), ("password", Password));
            var page = await browser.PostAsync($"/t/{client.Slug}/login", limitedForm);
            Assert.Equal(HttpStatusCode.TooManyRequests, page.StatusCode);
            Assert.Contains("Too many sign-in attempts", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            // The key is the lookup's normalization, and other accounts keep their allowance.
            Assert.Equal(AttemptLimiter.AccountKey(client.TenantId, "casey@example.com"), AttemptLimiter.AccountKey(client.TenantId, " CASEY@EXAMPLE.COM "));
            Assert.Equal(client.TenantId + ":" + Users.EmailAddresses.Normalize(" CASEY@Example.COM"), AttemptLimiter.AccountKey(client.TenantId, " CASEY@Example.COM"));
            await (await client.SignInAsync(http, "other@example.com", Password, clientIp: "192.0.2.200")).ReadJsonAsync(200);
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task A_full_hashing_queue_answers_503_with_retry_after_at_once_and_counts_no_failure()
    {
        // One hashing thread, one waiting place: a held hash and one queued one fill the gate.
        using var gate = new HashingGate(1, queueLimit: 1);
        var host = LimitedHost(b => b.ConfigureTestServices(s => s.AddSingleton(gate)));
        using var release = new ManualResetEventSlim();
        Task<bool>? held = null;
        Task<bool>? queued = null;
        try
        {
            var client = await SignInOracleTests.PasswordGrantClientAsync(app);
            await CreateUsersAsync(host, client.TenantId, ["queued@example.com"]);
            var userId = await app.DbAsync(db => db.Users.Where(u => u.TenantId == client.TenantId && u.EmailNormalized == "queued@example.com").Select(u => u.Id).SingleAsync());
            using var http = host.CreateClient();
            using var browser = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
            var html = await (await browser.GetAsync($"/t/{client.Slug}/login")).Content.ReadAsStringAsync();

            using var running = new ManualResetEventSlim();
            held = gate.RunAsync(() =>
            {
                running.Set();
                return release.Wait(TimeSpan.FromSeconds(60));
            }, CancellationToken.None);
            Assert.True(running.Wait(TimeSpan.FromSeconds(30)));
            queued = gate.RunAsync(() => true, CancellationToken.None);

            var grant = await client.SignInAsync(http, "queued@example.com", Password, clientIp: "203.0.113.50");
            var problem = await grant.ReadProblemAsync(503);
            Assert.Equal("urn:scaikey:problem:service-unavailable", problem["type"]!.GetValue<string>());
            Assert.True(grant.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "no Retry-After");

            var page = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", "queued@example.com"), ("password", Password)));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
            Assert.True(page.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "no Retry-After on the page");
            Assert.Contains("The service is busy", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            // Anything else that hashes answers 503 too, not 500.
            using (var admin = await AdminOfAsync(host))
            {
                var create = await admin.PostAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users", new { email = "later@example.com", password = Password });
                await create.ReadProblemAsync(503);
                Assert.NotNull(create.Headers.RetryAfter);
            }

            Assert.Equal(0, await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.FailedLoginAttempts).SingleAsync()));

            // Control: once the queue drains, the same sign-in succeeds.
            release.Set();
            Assert.True(await held);
            Assert.True(await queued);
            await (await client.SignInAsync(http, "queued@example.com", Password, clientIp: "203.0.113.50")).ReadJsonAsync(200);
        }
        finally
        {
            release.Set();
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task The_queue_limit_and_concurrency_come_from_configuration()
    {
        var host = app.StartHost(b =>
        {
            b.UseSetting("ScaiKey:PasswordHashing:Concurrency", "1");
            b.UseSetting("ScaiKey:PasswordHashing:QueueLimit", "3");
        });
        try
        {
            var gate = host.Services.GetRequiredService<HashingGate>();
            Assert.Equal((1, 3), (gate.Threads, gate.QueueLimit));
            var defaults = app.Host.Services.GetRequiredService<HashingGate>();
            Assert.Equal(HashingGateOptions.DefaultQueuePerThread * defaults.Threads, defaults.QueueLimit);
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }
}
