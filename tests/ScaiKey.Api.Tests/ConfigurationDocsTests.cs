using System.Reflection;
using System.Text.RegularExpressions;

namespace ScaiKey.Api.Tests;

/// <summary>
/// README.md's configuration table and the options classes cannot drift: every settable property of every class
/// bound from a <c>ScaiKey:*</c> section (a <c>const string Section</c>) has a row, and every <c>ScaiKey__*</c> setting
/// in the table is such a property. New options classes are picked up by reflection, whoever adds them.
/// </summary>
public sealed partial class ConfigurationDocsTests
{
    [Fact]
    public void The_readme_configuration_table_lists_exactly_the_options_classes_settings()
    {
        var bound = BoundSettings();
        var documented = ReadmeSettings();

        // Control: the reflection and the table parser both find something, so an empty set cannot pass.
        Assert.Contains("ScaiKey__Smtp__Port", bound.Keys);
        Assert.Contains("ScaiKey__Smtp__Port", documented);

        var undocumented = bound.Keys.Except(documented).Order().Select(k => $"{k} ({bound[k]})").ToList();
        var unknown = documented.Except(bound.Keys).Order().ToList();
        Assert.True(undocumented.Count == 0 && unknown.Count == 0,
            $"Settings of options classes missing from README.md's configuration table: {string.Join(", ", undocumented)}. " +
            $"Settings in the table that no options class binds: {string.Join(", ", unknown)}.");
    }

    /// <summary>Environment-variable name of each bound setting, with the class it belongs to.</summary>
    internal static Dictionary<string, string> BoundSettings()
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var type in typeof(Program).Assembly.GetTypes())
        {
            if (type.GetField("Section", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static) is not { IsLiteral: true } field
                || field.GetRawConstantValue() is not string section || !section.StartsWith("ScaiKey", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.SetMethod is { IsPublic: true })
                {
                    settings[section.Replace(":", "__", StringComparison.Ordinal) + "__" + property.Name] = type.Name;
                }
            }
        }

        return settings;
    }

    /// <summary>
    /// The ScaiKey__* settings named in the first column of README.md's "## Configuration" table. A cell may name
    /// several: `ScaiKey__Smtp__Host` / `Port` (a bare name continues the previous one's section); `…__0` (`__1`, …)
    /// is a list, named without its index.
    /// </summary>
    internal static HashSet<string> ReadmeSettings()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "README.md"));
        var start = readme.IndexOf("\n## Configuration", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no ## Configuration section");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = end < 0 ? readme[start..] : readme[start..end];

        var settings = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in section.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)))
        {
            string? prefix = null;
            foreach (Match match in Code().Matches(row.Split('|')[1]))
            {
                var token = match.Groups[1].Value.Trim();
                if (token.StartsWith("__", StringComparison.Ordinal))
                {
                    continue;
                }

                if (token.Contains("__", StringComparison.Ordinal))
                {
                    var name = ListIndex().Replace(token, "");
                    prefix = name[..name.LastIndexOf("__", StringComparison.Ordinal)];
                    settings.Add(name);
                }
                else if (prefix is not null)
                {
                    settings.Add(prefix + "__" + token);
                }
            }
        }

        settings.RemoveWhere(s => !s.StartsWith("ScaiKey__", StringComparison.Ordinal));
        return settings;
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Code();

    [GeneratedRegex(@"(__\d+)+$")]
    private static partial Regex ListIndex();
}
