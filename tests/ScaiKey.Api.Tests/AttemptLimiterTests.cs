using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Tests;

/// <summary>Unit tests for the per-IP and per-account sign-in limits and their 429 response.</summary>
public sealed class AttemptLimiterTests
{
    [Fact]
    public void Ip_limit_refuses_the_attempt_after_the_allowance_with_a_positive_retry_after()
    {
        using var limiter = new AttemptLimiter(enabled: true, perIpPerMinute: 3, perAccountPerMinute: 100);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(limiter.TryAcquire("192.0.2.1", "t1:user" + i + "@example.com", out var none));
            Assert.Equal(TimeSpan.Zero, none);
        }

        Assert.False(limiter.TryAcquire("192.0.2.1", "t1:other@example.com", out var retryAfter));
        Assert.True(retryAfter > TimeSpan.Zero);
        Assert.True(retryAfter <= TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void Account_limit_holds_across_ips_and_ignores_case()
    {
        using var limiter = new AttemptLimiter(enabled: true, perIpPerMinute: 100, perAccountPerMinute: 2);
        Assert.True(limiter.TryAcquire("192.0.2.1", "t1:ada@example.com", out _));
        Assert.True(limiter.TryAcquire("192.0.2.2", "t1:Ada@example.com", out _));

        Assert.False(limiter.TryAcquire("192.0.2.3", "t1:ADA@example.com", out var retryAfter));
        Assert.True(retryAfter > TimeSpan.Zero);
    }

    [Fact]
    public void Partitions_are_independent()
    {
        using var limiter = new AttemptLimiter(enabled: true, perIpPerMinute: 2, perAccountPerMinute: 2);
        Assert.True(limiter.TryAcquire("192.0.2.1", "t1:a@example.com", out _));
        Assert.True(limiter.TryAcquire("192.0.2.1", "t1:b@example.com", out _));
        Assert.False(limiter.TryAcquire("192.0.2.1", "t1:c@example.com", out _));

        // Control: another IP, and the same account in another tenant, still have their whole allowance.
        Assert.True(limiter.TryAcquire("192.0.2.9", "t1:c@example.com", out _));
        Assert.True(limiter.TryAcquire("192.0.2.9", "t2:a@example.com", out _));
        Assert.True(limiter.TryAcquire("2001:db8::1", "t2:a@example.com", out _));
        Assert.False(limiter.TryAcquire("2001:db8::2", "t2:a@example.com", out _));
    }

    [Fact]
    public void Attempts_refused_by_the_ip_limit_do_not_use_up_the_account()
    {
        using var limiter = new AttemptLimiter(enabled: true, perIpPerMinute: 1, perAccountPerMinute: 2);
        Assert.True(limiter.TryAcquire("192.0.2.66", "t1:victim@example.com", out _));
        for (var i = 0; i < 5; i++)
        {
            Assert.False(limiter.TryAcquire("192.0.2.66", "t1:victim@example.com", out _));
        }

        Assert.True(limiter.TryAcquire("192.0.2.7", "t1:victim@example.com", out _));
    }

    [Fact]
    public void Missing_ip_or_account_skips_that_limit_only()
    {
        using var limiter = new AttemptLimiter(enabled: true, perIpPerMinute: 1, perAccountPerMinute: 1);
        Assert.True(limiter.TryAcquire(null, "t1:a@example.com", out _));
        Assert.False(limiter.TryAcquire(null, "t1:a@example.com", out _));
        Assert.True(limiter.TryAcquire("192.0.2.1", null, out _));
        Assert.False(limiter.TryAcquire("192.0.2.1", null, out _));
        Assert.True(limiter.TryAcquire(null, null, out _));
    }

    [Fact]
    public void Disabled_means_always_allowed()
    {
        using var limiter = AttemptLimiter.FromConfiguration(Configuration(("ScaiKey:RateLimits:Enabled", "false"),
            ("ScaiKey:RateLimits:PerIpPerMinute", "1"), ("ScaiKey:RateLimits:PerAccountPerMinute", "1")));
        Assert.False(limiter.Enabled);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(limiter.TryAcquire("192.0.2.1", "t1:a@example.com", out var retryAfter));
            Assert.Equal(TimeSpan.Zero, retryAfter);
        }
    }

    [Fact]
    public void Configuration_sets_the_limits_and_defaults_apply()
    {
        using var configured = AttemptLimiter.FromConfiguration(Configuration(("ScaiKey:RateLimits:PerAccountPerMinute", "1")));
        Assert.True(configured.Enabled);
        Assert.True(configured.TryAcquire(null, "t1:a@example.com", out _));
        Assert.False(configured.TryAcquire(null, "t1:a@example.com", out _));

        using var defaults = AttemptLimiter.FromConfiguration(Configuration());
        for (var i = 0; i < AttemptLimiter.DefaultPerIpPerMinute; i++)
        {
            Assert.True(defaults.TryAcquire("192.0.2.1", null, out _));
        }

        Assert.False(defaults.TryAcquire("192.0.2.1", null, out _));
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

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
