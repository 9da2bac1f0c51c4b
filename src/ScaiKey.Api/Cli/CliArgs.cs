using System.Globalization;

namespace ScaiKey.Api.Cli;

internal sealed class CliUsageException(string message) : Exception(message);

/// <summary>`--name value`, `--name=value`, bare `--flag`, and positional arguments; each option read at most once.</summary>
internal sealed class CliArgs
{
    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { "restart" };

    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public List<string> Positional { get; } = [];

    public static CliArgs Parse(IEnumerable<string> args)
    {
        var result = new CliArgs();
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var arg = e.Current;
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg == "--")
            {
                result.Positional.Add(arg);
                continue;
            }

            var name = arg[2..];
            string? value = null;
            var eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (!Flags.Contains(name))
            {
                value = e.MoveNext() ? e.Current : throw new CliUsageException($"--{name} needs a value.");
            }

            if (!result._options.TryAdd(name, value))
            {
                throw new CliUsageException($"--{name} is given twice.");
            }
        }

        return result;
    }

    public string? String(string name)
    {
        _read.Add(name);
        return _options.GetValueOrDefault(name);
    }

    public string RequiredString(string name) =>
        String(name) is { Length: > 0 } value ? value : throw new CliUsageException($"--{name} is required.");

    public bool Flag(string name)
    {
        _read.Add(name);
        return _options.ContainsKey(name);
    }

    public int Int(string name, int defaultValue, int min, int max)
    {
        if (String(name) is not { } text)
        {
            return defaultValue;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new CliUsageException($"--{name} must be a whole number from {min} to {max}.");
        }

        return value;
    }

    /// <summary>Call after reading every option: a misspelt option must not be silently ignored.</summary>
    public void RejectUnknown(int maxPositional)
    {
        foreach (var name in _options.Keys.Where(k => !_read.Contains(k)))
        {
            throw new CliUsageException($"unknown option --{name}.");
        }

        if (Positional.Count > maxPositional)
        {
            throw new CliUsageException($"unexpected argument '{Positional[maxPositional]}'.");
        }
    }
}
