using System.Diagnostics;
using System.Globalization;
using System.Text;
using ScaiKey.Api.Security;

// H1: the bare Argon2id rate with the service's default parameters (PasswordHasher's defaults, as sign-in uses),
// on as many threads as wrk gives the server in T2, for a fixed time. Prints "H1 hashes/s p50_ms p99_ms".
// A third argument "libsodium" measures libsodium's crypto_pwhash_str with the same parameters instead, printed as
// H1-libsodium: the reference the service's own Argon2 (Security/Argon2.cs) is compared with.
// "t3-seed ...": the users and TOTP factors of T3 (T3Seed.cs), then exit.
if (args is ["t3-seed", ..])
{
    await ScaiKey.Bench.T3Seed.RunAsync(args[1..]);
    return;
}

var threads = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2;
var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 10;
var libsodium = args.Length > 2 && args[2] == "libsodium";
var name = libsodium ? "H1-libsodium" : "H1";
var hasher = new PasswordHasher();
Action<string> hash = libsodium
    ? password => Geralt.Argon2id.ComputeHash(new char[Geralt.Argon2id.HashSize], Encoding.UTF8.GetBytes(password),
        PasswordHasher.DefaultIterations, PasswordHasher.DefaultMemoryBytes)
    : password => hasher.Hash(password);
hash("warm-up: loads the code and touches the memory once");

var deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
var perThread = new List<double>[threads];
var started = Stopwatch.GetTimestamp();
var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
{
    var latencies = perThread[t] = [];
    var password = "Bench-Password-" + t.ToString(CultureInfo.InvariantCulture);
    while (Stopwatch.GetTimestamp() < deadline)
    {
        var start = Stopwatch.GetTimestamp();
        hash(password);
        latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }
})).ToList();
workers.ForEach(w => w.Start());
workers.ForEach(w => w.Join());
var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;

var all = perThread.SelectMany(l => l).Order().ToArray();
double Percentile(double p) => all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{name} {all.Length / elapsed:F1} {Percentile(0.50):F2} {Percentile(0.99):F2}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"# {name} hashes={all.Length} threads={threads} seconds={elapsed:F1} argon2id t={PasswordHasher.DefaultIterations} m={PasswordHasher.DefaultMemoryBytes / 1024}KiB p=1 {(libsodium ? "libsodium crypto_pwhash_str" : Argon2.IsAccelerated ? "Security/Argon2.cs, AVX-512" : "libsodium (no AVX-512 here)")}"));
