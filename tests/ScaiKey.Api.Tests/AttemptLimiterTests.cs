using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Tests;

/// <summary>Unit tests for the per-IP and per-account sign-in limits (failures only) and their 429 response.</summary>
public sealed class AttemptLimiterTests
{
    private static AttemptLimiter Limiter(int perIp, int perAccount) =>
        new(new RateLimitOptions { PerIpPerMinute = perIp, PerAccountPerMinute = perAccount });

    private static void Fail(AttemptLimiter limiter, string? ip, string tenant, string email, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            limiter.RecordFailure(ip, tenant, email);
        }
    }

    [Fact]
    public void Ip_limit_refuses_after_the_allowed_failures_with_a_positive_retry_after()
    {
        using var limiter = Limiter(perIp: 3, perAccount: 100);
        for (var i = 0; i < 3; i++)
        {
            Assert.False(limiter.IsRefused("192.0.2.1", "t1", "user" + i + "@example.com", out var none));
            Assert.Equal(TimeSpan.Zero, none);
            limiter.RecordFailure("192.0.2.1", "t1", "user" + i + "@example.com");
        }

        Assert.True(limiter.IsRefused("192.0.2.1", "t1", "other@example.com", out var retryAfter));
        Assert.True(retryAfter > TimeSpan.Zero);
        Assert.True(retryAfter <= TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void Asking_counts_nothing_only_failures_do()
    {
        using var limiter = Limiter(perIp: 2, perAccount: 2);
        for (var i = 0; i < 100; i++)
        {
            Assert.False(limiter.IsRefused("192.0.2.1", "t1", "busy@example.com", out _));
        }

        Fail(limiter, "192.0.2.1", "t1", "busy@example.com", times: 2);
        Assert.True(limiter.IsRefused("192.0.2.1", "t1", "busy@example.com", out _));
    }

    [Fact]
    public void Account_limit_holds_across_ips_and_every_spelling_of_the_mailbox()
    {
        using var limiter = Limiter(perIp: 100, perAccount: 2);
        Fail(limiter, "192.0.2.1", "t1", "ada@example.com");
        Fail(limiter, "192.0.2.2", "t1", " Ada@Example.COM ");

        Assert.True(limiter.IsRefused("192.0.2.3", "t1", "ADA@example.com", out var retryAfter));
        Assert.True(retryAfter > TimeSpan.Zero);
        Assert.Equal(AttemptLimiter.AccountKey("t1", "ada@example.com"), AttemptLimiter.AccountKey("t1", " ADA@EXAMPLE.com"));
    }

    [Fact]
    public void Partitions_are_independent()
    {
        using var limiter = Limiter(perIp: 2, perAccount: 2);
        Fail(limiter, "192.0.2.1", "t1", "a@example.com");
        Fail(limiter, "192.0.2.1", "t1", "b@example.com");
        Assert.True(limiter.IsRefused("192.0.2.1", "t1", "c@example.com", out _));

        // Control: another IP, and the same account in another tenant, still have their whole allowance.
        Assert.False(limiter.IsRefused("192.0.2.9", "t1", "c@example.com", out _));
        Assert.False(limiter.IsRefused("192.0.2.9", "t2", "a@example.com", out _));
        Fail(limiter, "2001:db8::1", "t2", "a@example.com", times: 2);
        Assert.True(limiter.IsRefused("2001:db8::2", "t2", "a@example.com", out _));
    }

    [Fact]
    public void A_missing_ip_skips_that_limit_only()
    {
        using var limiter = Limiter(perIp: 1, perAccount: 1);
        Fail(limiter, null, "t1", "a@example.com");
        Assert.True(limiter.IsRefused(null, "t1", "a@example.com", out _));
        Assert.False(limiter.IsRefused(null, "t1", "b@example.com", out _));
    }

    [Fact]
    public void Disabled_means_always_allowed()
    {
        using var limiter = FromConfiguration(("ScaiKey:RateLimits:Enabled", "false"),
            ("ScaiKey:RateLimits:PerIpPerMinute", "1"), ("ScaiKey:RateLimits:PerAccountPerMinute", "1"));
        Assert.False(limiter.Enabled);
        Fail(limiter, "192.0.2.1", "t1", "a@example.com", times: 100);
        Assert.False(limiter.IsRefused("192.0.2.1", "t1", "a@example.com", out var retryAfter));
        Assert.Equal(TimeSpan.Zero, retryAfter);
    }

    [Fact]
    public void Configuration_sets_the_limits_and_defaults_apply()
    {
        using var configured = FromConfiguration(("ScaiKey:RateLimits:PerAccountPerMinute", "1"));
        Assert.True(configured.Enabled);
        Fail(configured, null, "t1", "a@example.com");
        Assert.True(configured.IsRefused(null, "t1", "a@example.com", out _));

        using var defaults = FromConfiguration();
        for (var i = 0; i < RateLimitOptions.DefaultPerIpPerMinute; i++)
        {
            Assert.False(defaults.IsRefused("192.0.2.1", "t1", $"u{i}@example.com", out _));
            defaults.RecordFailure("192.0.2.1", "t1", $"u{i}@example.com");
        }

        Assert.True(defaults.IsRefused("192.0.2.1", "t1", "next@example.com", out _));
    }

    [Theory]
    [InlineData("ScaiKey:RateLimits:PerIpPerMinute", "0")]
    [InlineData("ScaiKey:RateLimits:PerAccountPerMinute", "-1")]
    public void A_limit_below_one_is_refused_at_start(string key, string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => FromConfiguration((key, value)));
        Assert.Contains("at least 1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.2, "1")]
    [InlineData(9.01, "10")]
    [InlineData(60, "60")]
    public async Task Too_many_requests_is_problem_json_with_retry_after_in_whole_seconds(double seconds, string header)
    {
        var http = new DefaultHttpContext();
        using var body = new MemoryStream();
        http.Response.Body = body;

        await Problems.TooManyRequests(TimeSpan.FromSeconds(seconds)).ExecuteAsync(http);

        Assert.Equal(429, http.Response.StatusCode);
        Assert.Equal(header, http.Response.Headers.RetryAfter.ToString());
        Assert.StartsWith(Problems.ContentType, http.Response.ContentType, StringComparison.Ordinal);
        var json = JsonNode.Parse(body.ToArray())!;
        Assert.Equal("urn:scaikey:problem:too-many-requests", json["type"]!.GetValue<string>());
        Assert.Equal(429, json["status"]!.GetValue<int>());
    }

    private static AttemptLimiter FromConfiguration(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
        var services = new ServiceCollection();
        AttemptLimiter.AddTo(services, configuration);

        // The limiter outlives the provider in these tests; the test disposes it.
        return services.BuildServiceProvider().GetRequiredService<AttemptLimiter>();
    }

    [Fact]
    public void Attempts_still_running_count_as_failures_so_a_burst_cannot_pass_the_check_together()
    {
        using var limiter = Limiter(perIp: 100, perAccount: 2);
        using var first = limiter.TryBegin("192.0.2.1", "t1", "burst@example.com", out _);
        using var second = limiter.TryBegin("192.0.2.2", "t1", "burst@example.com", out _);
        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Null(limiter.TryBegin("192.0.2.3", "t1", "BURST@example.com", out var wait));
        Assert.True(wait > TimeSpan.Zero);

        // A running attempt that succeeds gives its place back; one that fails keeps it for the minute.
        second!.Dispose();
        using (var third = limiter.TryBegin("192.0.2.3", "t1", "burst@example.com", out _))
        {
            Assert.NotNull(third);
            third!.Failed();
        }

        first!.Failed();
        first.Dispose();
        Assert.Null(limiter.TryBegin("192.0.2.4", "t1", "burst@example.com", out _));

        // Control: another account is not held up by them.
        using var other = limiter.TryBegin("192.0.2.4", "t1", "calm@example.com", out _);
        Assert.NotNull(other);
    }

    [Fact]
    public void An_ipv6_client_is_one_bucket_per_64_and_a_mapped_ipv4_address_is_its_ipv4_bucket()
    {
        Assert.Equal(AttemptLimiter.IpKey("2001:db8:1:2::1"), AttemptLimiter.IpKey("2001:db8:1:2:ffff:ffff:ffff:fffe"));
        Assert.NotEqual(AttemptLimiter.IpKey("2001:db8:1:2::1"), AttemptLimiter.IpKey("2001:db8:1:3::1"));
        Assert.Equal("192.0.2.7", AttemptLimiter.IpKey("::ffff:192.0.2.7"));

        using var limiter = Limiter(perIp: 2, perAccount: 100);
        Fail(limiter, "2001:db8:1:2::1", "t1", "a@example.com", times: 2);
        Assert.True(limiter.IsRefused("2001:db8:1:2::beef", "t1", "b@example.com", out _));
        Assert.False(limiter.IsRefused("2001:db8:1:3::1", "t1", "b@example.com", out _));
    }
}
