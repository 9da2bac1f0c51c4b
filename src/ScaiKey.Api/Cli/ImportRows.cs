using System.Buffers;
using System.Text;
using System.Text.Json;
using ScaiKey.Api.Errors;

namespace ScaiKey.Api.Cli;

internal enum ImportFormat
{
    Csv,
    Jsonl,
}

/// <summary>One record of the input: its (first) line number and either a JSON value or why it could not be read.</summary>
internal readonly record struct ImportRow(int Line, JsonDocument? Document, ValidationError? ParseError);

/// <summary>
/// Reads an import file record by record as JSON, whatever its format: JSON Lines as they are, CSV rows turned into
/// the same JSON object a UserCreate body would be, so one validation path serves both.
/// </summary>
internal static class ImportRows
{
    /// <summary>Fields an import row may carry beyond UserCreate.</summary>
    public const string PasswordHashField = "password_hash";

    public static readonly string[] CreateFields =
    [
        "email", "username", "first_name", "last_name", "display_name", "phone", "locale", "timezone", "password", "ou_id",
        "group_ids", "custom_attributes", "require_password_change", "send_welcome_email",
    ];

    /// <summary>UserResponse fields that `export` writes and import ignores, so an export imports into another tenant as it is.</summary>
    public static readonly HashSet<string> ExportOnlyFields = new(StringComparer.Ordinal)
    {
        "id", "email_verified", "avatar_url", "ou_path", "status", "identity_source", "mfa_enabled", "groups",
        "created_at", "updated_at", "last_login_at", "password_changed_at",
    };

    private static readonly HashSet<string> BoolFields = new(StringComparer.Ordinal) { "require_password_change", "send_welcome_email" };

    public static ImportFormat DetectFormat(string path, string? explicitFormat) => explicitFormat?.ToLowerInvariant() switch
    {
        "csv" => ImportFormat.Csv,
        "jsonl" or "ndjson" => ImportFormat.Jsonl,
        null => Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".csv" => ImportFormat.Csv,
            ".jsonl" or ".ndjson" or ".json" => ImportFormat.Jsonl,
            _ => throw new CliUsageException("cannot tell the format from the file name; give --format csv or --format jsonl."),
        },
        _ => throw new CliUsageException("--format must be csv or jsonl."),
    };

    /// <summary>Rough number of records, for the progress bar: a newline count (CSV minus its header).</summary>
    public static long CountRecords(string path, ImportFormat format)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long lines = 0;
            int read;
            var last = (byte)'\n';
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                lines += buffer.AsSpan(0, read).Count((byte)'\n');
                last = buffer[read - 1];
            }

            if (last != '\n')
            {
                lines++;
            }

            return format == ImportFormat.Csv ? Math.Max(0, lines - 1) : lines;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static IEnumerable<ImportRow> Read(TextReader reader, ImportFormat format) =>
        format == ImportFormat.Csv ? ReadCsv(reader) : ReadJsonLines(reader);

    private static IEnumerable<ImportRow> ReadJsonLines(TextReader reader)
    {
        var line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            JsonDocument? document = null;
            ValidationError? error = null;
            try
            {
                document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
            }
            catch (JsonException ex)
            {
                error = new ValidationError([ex.BytePositionInLine ?? 0], "JSON decode error", "json_invalid");
            }

            yield return new ImportRow(line, document, error);
        }
    }

    private static IEnumerable<ImportRow> ReadCsv(TextReader reader)
    {
        var line = 0;
        string[]? header = null;
        var buffer = new ArrayBufferWriter<byte>(1024);
        while (ReadCsvRecord(reader, ref line) is { } record)
        {
            var (firstLine, fields, error) = record;
            if (header is null)
            {
                header = fields.Select(f => f.Trim()).ToArray();
                CheckHeader(header);
                continue;
            }

            if (error is not null)
            {
                yield return new ImportRow(firstLine, null, new ValidationError([], error, "value_error"));
                continue;
            }

            if (fields.Count == 1 && fields[0].Length == 0)
            {
                continue; // a blank line
            }

            if (fields.Count != header.Length)
            {
                yield return new ImportRow(firstLine, null,
                    new ValidationError([], $"Value error, the row has {fields.Count} fields, the header {header.Length}", "value_error"));
                continue;
            }

            buffer.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                for (var i = 0; i < header.Length; i++)
                {
                    WriteCsvField(json, header[i], fields[i]);
                }

                json.WriteEndObject();
            }

            yield return new ImportRow(firstLine, JsonDocument.Parse(buffer.WrittenMemory), null);
        }
    }

    private static void CheckHeader(string[] header)
    {
        var known = CreateFields.Append(PasswordHashField).Concat(ExportOnlyFields).ToHashSet(StringComparer.Ordinal);
        if (header.FirstOrDefault(h => !known.Contains(h)) is { } unknown)
        {
            throw new CliUsageException($"unknown CSV column '{unknown}'; columns are UserCreate field names ({string.Join(", ", CreateFields)}) and {PasswordHashField}.");
        }

        if (header.GroupBy(h => h, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new CliUsageException($"CSV column '{twice.Key}' appears twice.");
        }

        if (!header.Contains("email"))
        {
            throw new CliUsageException("the CSV header has no 'email' column.");
        }
    }

    /// <summary>An empty cell is an absent field (so defaults apply); lists, booleans and objects get their JSON types.</summary>
    private static void WriteCsvField(Utf8JsonWriter json, string name, string value)
    {
        if (value.Length == 0)
        {
            return;
        }

        if (name == "group_ids")
        {
            json.WriteStartArray(name);
            foreach (var id in value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                json.WriteStringValue(id);
            }

            json.WriteEndArray();
            return;
        }

        if (BoolFields.Contains(name))
        {
            switch (value.Trim().ToLowerInvariant())
            {
                case "true" or "1" or "yes":
                    json.WriteBoolean(name, true);
                    return;
                case "false" or "0" or "no":
                    json.WriteBoolean(name, false);
                    return;
            }
        }

        if (name == "custom_attributes")
        {
            try
            {
                using var document = JsonDocument.Parse(value);
                json.WritePropertyName(name);
                document.RootElement.WriteTo(json);
                return;
            }
            catch (JsonException)
            {
                // Left as a string: validation then reports "Input should be a valid dictionary".
            }
        }

        json.WriteString(name, value);
    }

    /// <summary>RFC 4180: comma-separated, double quotes around fields with commas, quotes or line breaks, "" for a quote.</summary>
    private static (int Line, List<string> Fields, string? Error)? ReadCsvRecord(TextReader reader, ref int line)
    {
        var text = reader.ReadLine();
        if (text is null)
        {
            return null;
        }

        line++;
        var firstLine = line;
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        var i = 0;
        while (true)
        {
            if (i >= text.Length)
            {
                if (!quoted)
                {
                    fields.Add(field.ToString());
                    return (firstLine, fields, null);
                }

                // A line break inside quotes belongs to the field.
                var next = reader.ReadLine();
                if (next is null)
                {
                    fields.Add(field.ToString());
                    return (firstLine, fields, "Value error, a quoted field is not closed before the end of the file");
                }

                line++;
                field.Append('\n');
                text = next;
                i = 0;
                continue;
            }

            var c = text[i];
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        field.Append('"');
                        i += 2;
                        continue;
                    }

                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else
            {
                field.Append(c);
            }

            i++;
        }
    }
}
