using System.Data.Common;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Cli;

/// <summary>
/// `scaikey import`: validates every row like the API's create, writes the valid ones in batches (each batch one
/// transaction, with one audit event), reports the invalid ones per line, and checkpoints after each commit.
/// </summary>
internal static class ImportCommand
{
    public const int DefaultBatchSize = 5000;
    public const string AuditAction = "users.imported";
    public const string AuditActor = "cli:import";

    private sealed record ErrorLine(int Line, IReadOnlyList<ValidationError> Detail);

    public static async Task<int> RunAsync(CliArgs args, IServiceProvider services, CliConsole console, CliHooks? hooks, CancellationToken ct)
    {
        var tenantArg = args.RequiredString("tenant");
        var formatArg = args.String("format");
        var batchSize = args.Int("batch-size", DefaultBatchSize, 1, 100_000);
        var errorsArg = args.String("errors");
        var restart = args.Flag("restart");
        args.RejectUnknown(maxPositional: 1);
        if (args.Positional.Count == 0)
        {
            throw new CliUsageException("give the file to import.");
        }

        var path = Path.GetFullPath(args.Positional[0]);
        if (!File.Exists(path))
        {
            throw new CliUsageException($"{path} does not exist.");
        }

        var format = ImportRows.DetectFormat(path, formatArg);
        var errorsPath = Path.GetFullPath(errorsArg ?? path + ".errors.jsonl");
        var checkpointPath = path + ".checkpoint";

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        var hasher = scope.ServiceProvider.GetRequiredService<PasswordHasher>();
        var audit = scope.ServiceProvider.GetRequiredService<AuditLog>();
        var time = scope.ServiceProvider.GetRequiredService<TimeProvider>();
        var tenant = await CliTenants.FindAsync(db, tenantArg, ct);

        var (size, head) = ImportCheckpoint.Identify(path);
        var state = restart ? null : ImportCheckpoint.Load(checkpointPath);
        if (state is not null && (state.TenantId != tenant.Id || state.FileSize != size || state.HeadSha256 != head))
        {
            throw new CliUsageException($"{checkpointPath} belongs to another file or tenant; rerun with --restart to import from the start.");
        }

        if (state?.Pending is { } pending)
        {
            // The last run stopped around a commit: the probe user tells whether that batch made it.
            var committed = pending.ProbeUserId is null || await db.Users.AnyAsync(u => u.Id == pending.ProbeUserId, ct);
            state = committed ? state.Committed() : state with { Pending = null };
            state.Save(checkpointPath);
        }

        state ??= new ImportCheckpoint { TenantId = tenant.Id, FileSize = size, HeadSha256 = head };
        if (state.Completed)
        {
            await console.Error.WriteLineAsync(
                $"{Path.GetFileName(path)} was imported already ({state.Imported:N0} users, {state.Rejected:N0} rejected rows); delete {checkpointPath} or use --restart to import it again.");
            return state.Rejected > 0 ? CliRunner.CompletedWithRejectedRows : CliRunner.Success;
        }

        if (state.CommittedLine > 0)
        {
            await console.Error.WriteLineAsync($"Resuming after line {state.CommittedLine:N0} ({state.Imported:N0} users imported so far).");
        }

        // Everything a row is checked against, loaded once: OU and group ids, live emails and usernames.
        var ouIds = (await db.OrganizationalUnits.AsNoTracking().Where(o => o.TenantId == tenant.Id).Select(o => o.Id).ToListAsync(ct))
            .ToHashSet(StringComparer.Ordinal);
        var groupIds = (await db.Groups.AsNoTracking().Where(g => g.TenantId == tenant.Id).Select(g => g.Id).ToListAsync(ct))
            .ToHashSet(StringComparer.Ordinal);
        var emails = new Dictionary<string, int>(StringComparer.Ordinal);
        var usernames = new Dictionary<string, int>(StringComparer.Ordinal);
        await foreach (var existing in db.Users.AsNoTracking().Where(u => u.TenantId == tenant.Id && u.DeletedAt == null)
            .Select(u => new { u.EmailNormalized, u.UsernameNormalized }).AsAsyncEnumerable().WithCancellation(ct))
        {
            emails[existing.EmailNormalized] = 0;
            if (existing.UsernameNormalized is not null)
            {
                usernames[existing.UsernameNormalized] = 0;
            }
        }

        var validator = new ImportValidator(tenant, ouIds, groupIds, emails, usernames);
        var progress = new ProgressBar(console, "import", ImportRows.CountRecords(path, format));
        progress.Resume(state.Imported + state.Rejected);

        await using var errorsFile = new FileStream(errorsPath, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read);
        errorsFile.SetLength(Math.Min(errorsFile.Length, state.ErrorsBytes));
        errorsFile.Seek(0, SeekOrigin.End);

        await using var writer = await UserBulkWriter.OpenAsync(db, ct);
        var batch = new List<ValidRow>(batchSize);
        var batchErrors = new List<ErrorLine>();
        var batchRecords = 0;
        var firstLine = 0;
        var lastLine = 0;
        var batchNumber = 0;

        async Task FlushAsync()
        {
            batchNumber++;
            var errorBytes = SerializeErrors(batchErrors);
            var hashes = await HashPasswordsAsync(batch, hasher, ct);
            var now = time.UtcNow();
            var users = new List<User>(batch.Count);
            var members = new List<GroupMember>();
            for (var i = 0; i < batch.Count; i++)
            {
                var user = UserInput.NewUser(tenant, batch[i].Input, hashes[i], now);
                users.Add(user);
                members.AddRange(batch[i].Input.GroupIds.Select(g => new GroupMember { GroupId = g, UserId = user.Id, TenantId = tenant.Id, CreatedAt = now }));
            }

            var before = state;
            state = state.WithPending(new(lastLine, users.LastOrDefault()?.Id, state.Imported + users.Count,
                state.Rejected + batchErrors.Count, state.ErrorsBytes + errorBytes.Length));
            state.Save(checkpointPath);
            errorsFile.Write(errorBytes);
            errorsFile.Flush(flushToDisk: true);
            try
            {
                var number = batchNumber;
                await writer.WriteAsync(users, members, async () =>
                {
                    if (users.Count > 0)
                    {
                        // One event per batch, committed with it: a million user.created events would double the
                        // import's writes and bury the trail; the batch event says who, when, which lines, how many.
                        audit.RecordAs(SignInService.SystemActor, AuditActor, AuditAction, "tenant", tenant.Id, tenant.Id, ["users"],
                            $"{Path.GetFileName(path)}, lines {firstLine}-{lastLine}: {users.Count} users imported, {batchErrors.Count} rows rejected");
                        await db.SaveChangesAsync(ct);
                    }

                    if (hooks?.BeforeCommitAsync is { } hook)
                    {
                        await hook(number, db);
                    }
                }, ct);
            }
            catch
            {
                // Nothing of the batch was written: take its error lines back out of the report too.
                errorsFile.SetLength(before.ErrorsBytes);
                errorsFile.Seek(0, SeekOrigin.End);
                state = before;
                state.Save(checkpointPath);
                throw;
            }

            state = state.Committed();
            state.Save(checkpointPath);
            batch.Clear();
            batchErrors.Clear();
            batchRecords = 0;
        }

        try
        {
            using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan),
                Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
            foreach (var row in ImportRows.Read(reader, format))
            {
                using var document = row.Document;
                if (row.Line <= state.CommittedLine)
                {
                    continue;
                }

                ct.ThrowIfCancellationRequested();
                if (batchRecords == 0)
                {
                    firstLine = row.Line;
                }

                lastLine = row.Line;
                batchRecords++;
                var rowErrors = new List<ValidationError>();
                if (row.ParseError is { } parseError)
                {
                    rowErrors.Add(parseError);
                }
                else if (validator.Validate(row.Line, document!.RootElement, rowErrors) is { } valid)
                {
                    batch.Add(valid);
                }

                if (rowErrors.Count > 0)
                {
                    batchErrors.Add(new ErrorLine(row.Line, rowErrors));
                }

                progress.Report(state.Imported + state.Rejected + batchRecords);
                if (batchRecords >= batchSize)
                {
                    await FlushAsync();
                }
            }

            if (batchRecords > 0)
            {
                await FlushAsync();
            }

            await writer.FinishAsync(ct);
        }
        catch (Exception ex) when (ex is DbException or DbUpdateException or InvalidOperationException { InnerException: DbException })
        {
            progress.Finish();
            var detail = ex is DbUpdateException { InnerException: { } inner } ? inner.Message : ex.Message;
            await console.Error.WriteLineAsync(
                $"scaikey import: the batch of lines {firstLine}-{lastLine} failed in the database and was rolled back: {detail}");
            await console.Error.WriteLineAsync(
                $"{state.Imported:N0} users were imported before it; rerun the same command to continue after line {state.CommittedLine:N0}.");
            return CliRunner.Failed;
        }

        state = state with { Completed = true };
        state.Save(checkpointPath);
        progress.Finish();
        await console.Error.WriteLineAsync(state.Rejected > 0
            ? $"Imported {state.Imported:N0} users into {tenant.Slug}; {state.Rejected:N0} rows rejected, see {errorsPath}."
            : $"Imported {state.Imported:N0} users into {tenant.Slug}.");
        return state.Rejected > 0 ? CliRunner.CompletedWithRejectedRows : CliRunner.Success;
    }

    private static byte[] SerializeErrors(List<ErrorLine> lines)
    {
        if (lines.Count == 0)
        {
            return [];
        }

        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append(JsonSerializer.Serialize(new { line = line.Line, detail = line.Detail }, ApiJson.Options)).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Plain passwords cost an Argon2id hash each (tens of milliseconds): spread them over the cores.</summary>
    private static async Task<string?[]> HashPasswordsAsync(List<ValidRow> rows, PasswordHasher hasher, CancellationToken ct)
    {
        var hashes = rows.Select(r => r.PasswordHash).ToArray();
        var plain = Enumerable.Range(0, rows.Count).Where(i => rows[i].Input.Password is not null).ToArray();
        if (plain.Length > 0)
        {
            await Parallel.ForEachAsync(plain, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Environment.ProcessorCount },
                (i, _) =>
                {
                    hashes[i] = hasher.Hash(rows[i].Input.Password!);
                    return ValueTask.CompletedTask;
                });
        }

        return hashes;
    }
}
