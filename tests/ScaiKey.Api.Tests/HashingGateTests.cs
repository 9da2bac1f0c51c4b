using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Password hashes run on the gate's own threads: never more at once than it has threads, in arrival order, with
/// the caller continuing elsewhere; while more hashes wait, a thread keeps the results of its consecutive hashes and
/// hands them back together, never holding one past the limit; a request abandoned while it waits costs no hash;
/// failures reach the caller.
/// </summary>
public sealed class HashingGateTests
{
    [Fact]
    public async Task No_more_hashes_run_at_once_than_the_gate_has_threads_and_they_start_in_arrival_order()
    {
        using var gate = new HashingGate(2);
        var running = 0;
        var most = 0;
        var started = new List<int>();
        var tasks = Enumerable.Range(0, 12).Select(i => gate.RunAsync(() =>
        {
            lock (started)
            {
                started.Add(i);
                most = Math.Max(most, ++running);
            }

            Thread.Sleep(20);
            lock (started)
            {
                running--;
            }

            return i;
        }, CancellationToken.None)).ToList();

        Assert.Equal(Enumerable.Range(0, 12), await Task.WhenAll(tasks));
        Assert.Equal(2, most);

        // Two threads take from one queue in order, so each job starts no later than two places after its turn.
        Assert.All(started.Select((job, position) => (job, position)), p => Assert.InRange(p.job - p.position, -1, 1));
    }

    [Fact]
    public async Task While_hashes_wait_a_thread_hands_the_results_of_a_batch_back_together()
    {
        using var gate = new HashingGate(1, batch: 3, maxHold: TimeSpan.FromMinutes(5));
        using var release = new ManualResetEventSlim();
        var held = Hold(gate, release);

        // Three wait behind the held hash, so the held one and the next two make a batch of three: their results go
        // back after the last of them, so while that runs the earlier results have not arrived. The fourth hash is
        // the next batch's, and by then they have.
        var first = gate.RunAsync(() => true, CancellationToken.None);
        var last = gate.RunAsync(() => first.Wait(TimeSpan.FromMilliseconds(200)) || held.IsCompleted, CancellationToken.None);
        var next = gate.RunAsync(() => first.Wait(TimeSpan.FromSeconds(30)) && held.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None);
        release.Set();

        Assert.True(await held);
        Assert.True(await first);
        Assert.False(await last);
        Assert.True(await next);
    }

    [Fact]
    public async Task A_result_goes_back_at_once_when_no_other_hash_waits()
    {
        using var gate = new HashingGate(1, batch: 3, maxHold: TimeSpan.FromMinutes(5));
        Assert.Equal(1, await gate.RunAsync(() => 1, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_result_goes_back_before_the_next_hash_would_keep_it_past_the_hold_limit()
    {
        using var gate = new HashingGate(1, batch: 3, maxHold: TimeSpan.FromMilliseconds(1));
        using var release = new ManualResetEventSlim();
        var held = Hold(gate, release);

        // A hash takes longer than the limit (the gate's recent average), so the first result goes back before the
        // second hash starts, and the second can wait for it; without the limit it would wait in vain for its batch.
        var first = gate.RunAsync(() => true, CancellationToken.None);
        var second = gate.RunAsync(() => first.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None);
        var third = gate.RunAsync(() => 3, CancellationToken.None);
        release.Set();

        Assert.True(await held);
        Assert.True(await first);
        Assert.True(await second);
        Assert.Equal(3, await third);
    }

    [Fact]
    public async Task The_caller_continues_off_the_hashing_thread()
    {
        using var gate = new HashingGate(1);
        using var release = new ManualResetEventSlim();
        var held = Hold(gate, release);

        // Attached while the hash waits, so the continuation cannot run inline on the test's own thread either.
        var hashing = gate.RunAsync(() => Environment.CurrentManagedThreadId, CancellationToken.None);
        var continuedOn = hashing.ContinueWith(_ => Environment.CurrentManagedThreadId, TaskContinuationOptions.ExecuteSynchronously);
        release.Set();

        Assert.True(await held);
        Assert.NotEqual(await hashing, await continuedOn);
    }

    [Fact]
    public async Task A_request_cancelled_while_it_waits_costs_no_hash_and_sees_the_cancellation()
    {
        using var gate = new HashingGate(1);
        using var release = new ManualResetEventSlim();
        var busy = gate.RunAsync(() => release.Wait(TimeSpan.FromSeconds(10)), CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var ran = false;
        var waiting = gate.RunAsync(() => ran = true, cancel.Token);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        release.Set();
        Assert.True(await busy);
        await gate.RunAsync(() => true, CancellationToken.None);
        Assert.False(ran);
    }

    [Fact]
    public async Task A_failing_hash_fails_its_caller_and_the_gate_goes_on()
    {
        using var gate = new HashingGate(1);
        await Assert.ThrowsAsync<FormatException>(() => gate.RunAsync<int>(() => throw new FormatException("bad hash"), CancellationToken.None));
        Assert.Equal(7, await gate.RunAsync(() => 7, CancellationToken.None));
    }
    [Fact]
    public async Task A_full_queue_refuses_at_once_with_a_retry_after_and_takes_work_again_once_drained()
    {
        using var gate = new HashingGate(1, queueLimit: 2);
        using var release = new ManualResetEventSlim();
        var held = Hold(gate, release);
        var waiting = new[] { gate.RunAsync(() => 1, CancellationToken.None), gate.RunAsync(() => 2, CancellationToken.None) };

        // Refused synchronously, before the caller could wait for anything.
        HashingQueueFullException? full = null;
        try
        {
            _ = gate.RunAsync(() => 3, CancellationToken.None);
        }
        catch (HashingQueueFullException refused)
        {
            full = refused;
        }

        Assert.NotNull(full);
        Assert.True(full.RetryAfter >= TimeSpan.FromSeconds(1));

        release.Set();
        Assert.True(await held);
        Assert.Equal(new[] { 1, 2 }, await Task.WhenAll(waiting));
        Assert.Equal(4, await gate.RunAsync(() => 4, CancellationToken.None));
    }

    [Theory]
    [InlineData("Concurrency", "0")]
    [InlineData("QueueLimit", "0")]
    public void A_concurrency_or_queue_limit_below_one_is_refused_at_start(string key, string value)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new KeyValuePair<string, string?>("ScaiKey:PasswordHashing:" + key, value)]).Build();
        var services = new ServiceCollection();
        HashingGate.AddTo(services, configuration);
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<HashingGate>());
        Assert.Contains("at least 1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    public void A_batch_outside_1_to_64_is_refused_at_start(string value)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new KeyValuePair<string, string?>("ScaiKey:PasswordHashing:Batch", value)]).Build();
        var services = new ServiceCollection();
        HashingGate.AddTo(services, configuration);
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<HashingGate>());
        Assert.Contains("Batch must be between 1 and 64", error.Message, StringComparison.Ordinal);
    }

    // Occupies the gate's (only) thread until release is set; returns once the held hash runs.
    private static Task<bool> Hold(HashingGate gate, ManualResetEventSlim release)
    {
        var running = new TaskCompletionSource();
        var held = gate.RunAsync(() =>
        {
            running.SetResult();
            return release.Wait(TimeSpan.FromSeconds(30));
        }, CancellationToken.None);
        Assert.True(running.Task.Wait(TimeSpan.FromSeconds(30)));
        return held;
    }
}
