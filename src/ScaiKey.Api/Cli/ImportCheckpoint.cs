using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScaiKey.Api.Cli;

/// <summary>
/// Where an import stands, in <c>&lt;file&gt;.checkpoint</c> next to the input. Before a batch commits, the batch is
/// recorded as pending with the id of its last user; after the commit it becomes the committed line. A rerun that
/// finds a pending batch asks the database whether that user exists, so a crash between the commit and the file
/// write neither loses nor repeats a batch. The error report is cut back to the committed length on resume.
/// </summary>
internal sealed record ImportCheckpoint
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    public int Version { get; init; } = 1;
    public required string TenantId { get; init; }
    public required long FileSize { get; init; }

    /// <summary>SHA-256 of the file's first MiB: with the size, tells whether a rerun is on the same file.</summary>
    public required string HeadSha256 { get; init; }

    /// <summary>The (first) line of the last record whose batch committed; records up to it are skipped on resume.</summary>
    public int CommittedLine { get; init; }
    public long Imported { get; init; }
    public long Rejected { get; init; }
    public long ErrorsBytes { get; init; }
    public bool Completed { get; init; }
    public PendingBatch? Pending { get; init; }

    internal sealed record PendingBatch(int Line, string? ProbeUserId, long Imported, long Rejected, long ErrorsBytes);

    public ImportCheckpoint WithPending(PendingBatch pending) => this with { Pending = pending };

    public ImportCheckpoint Committed() => Pending is { } p
        ? this with { CommittedLine = p.Line, Imported = p.Imported, Rejected = p.Rejected, ErrorsBytes = p.ErrorsBytes, Pending = null }
        : this;

    public static (long Size, string HeadSha256) Identify(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var head = new byte[Math.Min(stream.Length, 1 << 20)];
        stream.ReadExactly(head);
        return (stream.Length, Convert.ToHexStringLower(SHA256.HashData(head)));
    }

    public static ImportCheckpoint? Load(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<ImportCheckpoint>(File.ReadAllText(path), Json);
        }
        catch (JsonException)
        {
            throw new CliUsageException($"the checkpoint {path} is unreadable; delete it or rerun with --restart.");
        }
    }

    /// <summary>Written to a temporary file, flushed to disk, then renamed over the old one: never half a checkpoint.</summary>
    public void Save(string path)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, this, Json);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
