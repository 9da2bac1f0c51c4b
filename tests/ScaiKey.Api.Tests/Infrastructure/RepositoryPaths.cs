namespace ScaiKey.Api.Tests.Infrastructure;

public static class RepositoryPaths
{
    /// <summary>The folder holding ScaiKey.slnx, found by walking up from the test binaries.</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "ScaiKey.slnx")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("ScaiKey.slnx not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>
    /// The repository's own copy of the reference (spec/) and its contract checker (tools/), taken from ../shared, so
    /// that no test depends on anything beside the clone.
    /// </summary>
    public static string Reference => Path.Combine(Root, "reference");
}
