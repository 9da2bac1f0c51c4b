using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScaiKey.ApiReference;

internal static class Program
{
    private const string DefaultUrl = "http://127.0.0.1:5000/openapi.json";
    private const string DefaultOut = "docs/reference/api/users.md";

    private const string Usage =
        "usage: dotnet run --project tools/ScaiKey.ApiReference -- "
        + "[--url http://host/openapi.json | --file openapi.json] [--out docs/reference/api/users.md]";

    public static async Task<int> Main(string[] args)
    {
        string? url = null;
        string? file = null;
        var output = DefaultOut;

        for (var i = 0; i < args.Length; i++)
        {
            var option = args[i];
            if (option is "-h" or "--help")
            {
                Console.WriteLine(Usage);
                return 0;
            }

            if (option is not ("--url" or "--file" or "--out"))
            {
                await Console.Error.WriteLineAsync($"unknown argument '{option}'\n{Usage}");
                return 2;
            }

            if (i + 1 >= args.Length)
            {
                await Console.Error.WriteLineAsync($"{option} needs a value\n{Usage}");
                return 2;
            }

            var value = args[++i];
            switch (option)
            {
                case "--url": url = value; break;
                case "--file": file = value; break;
                default: output = value; break;
            }
        }

        if (url is not null && file is not null)
        {
            await Console.Error.WriteLineAsync($"--url and --file are mutually exclusive\n{Usage}");
            return 2;
        }

        try
        {
            var source = file ?? url ?? DefaultUrl;
            var json = file is not null ? await File.ReadAllTextAsync(file) : await FetchAsync(source);
            var document = JsonNode.Parse(json)
                ?? throw new JsonException($"{source} does not contain a JSON document.");

            var markdown = ApiReferenceRenderer.Render(document);

            var directory = Path.GetDirectoryName(Path.GetFullPath(output));
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            // Renderer output is LF-only with one trailing newline; writing it as-is (no BOM)
            // keeps the file byte-identical to what the contract check and reviewers diff against.
            await File.WriteAllTextAsync(output, markdown, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            Console.WriteLine($"wrote {output} from {source}");
            return 0;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or IOException
                                       or UnauthorizedAccessException or ArgumentException or InvalidOperationException or UriFormatException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }

    private static async Task<string> FetchAsync(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        return await http.GetStringAsync(new Uri(url));
    }
}
