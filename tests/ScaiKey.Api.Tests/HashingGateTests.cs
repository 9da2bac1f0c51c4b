using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Password hashes run on the gate's own threads: never more at once than it has threads, in arrival order, with
/// the caller continuing elsewhere; a thread takes the hashes already waiting as a batch and hands their results back
/// together, never holding one past the limit; a request abandoned while it waits costs no hash; failures reach the
/// caller.
/// </summary>
public sealed class HashingGateTests
{
    [Fact]
    public async Task No_more_hashes_run_at_once_than_the_gate_has_threads_and_they_start_in_arrival_order()
    {
        // Batches of one: with larger ones a thread takes several waiting hashes at once (the next tests).
        using var gate = new HashingGate(2, batch: 1);
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
    public async Task A_thread_takes_the_waiting_hashes_as_a_batch_and_hands_their_results_back_together()
    {
        using var gate = new HashingGate(1, batch: 3, maxHold: TimeSpan.FromMinutes(5));
        using var release = new ManualResetEventSlim();
        var held = Hold(gate, release);

        // Four wait behind the held hash: the first three are the next batch, the fourth the one after. The batch's
        // results go back after its last hash, so while that runs the first result has not arrived.
        Task<bool>? firstOfBatch = null;
        firstOfBatch = gate.RunAsync(() => true, CancellationToken.None);
        var secondOfBatch = gate.RunAsync(() => firstOfBatch.IsCompleted, CancellationToken.None);
        var lastOfBatch = gate.RunAsync(() => firstOfBatch.Wait(TimeSpan.FromMilliseconds(200)), CancellationToken.None);
        var nextBatch = gate.RunAsync(() => firstOfBatch.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None);
        release.Set();

        Assert.True(await held);
        Assert.True(await firstOfBatch);
        Assert.False(await secondOfBatch);
        Assert.False(await lastOfBatch);

        // Handed back at the batch's end, before the next batch is done.
        Assert.True(await nextBatch);
    }

    [Fact]
    public async Task A_finished_result_is_handed_back_once_it_has_waited_the_hold_limit_for_its_batch()
    {
        using var gate = new HashingGate(1, batch: 3, maxHold: TimeSpan.FromMilliseconds(1));
        using var release = new ManualResetEventSlim();
        var held = Hold(gate, release);

        // The second hash of the batch takes longer than the limit, so the first's result goes back before the third
        // starts: the third waits for it (without the limit it would wait in vain for the whole batch).
        var first = gate.RunAsync(() => true, CancellationToken.None);
        var second = gate.RunAsync(() =>
        {
            Thread.Sleep(20);
            return 2;
        }, CancellationToken.None);
        var third = gate.RunAsync(() => first.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None);
        release.Set();

        Assert.True(await held);
        Assert.True(await first);
        Assert.Equal(2, await second);
        Assert.True(await third);
    }

    [Fact]
    public async Task The_caller_continues_off_the_hashing_thread()
    {
        using var gate = new HashingGate(1);
        var hashingThread = await gate.RunAsync(() => Environment.CurrentManagedThreadId, CancellationToken.None);
        var continuedOn = await gate.RunAsync(() => 0, CancellationToken.None).ContinueWith(
            _ => Environment.CurrentManagedThreadId, TaskContinuationOptions.ExecuteSynchronously);

        Assert.NotEqual(hashingThread, continuedOn);
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
