using System.Diagnostics;
using System.Globalization;

namespace ScaiKey.Api.Cli;

/// <summary>
/// Rows done of total, rows per second and ETA on stderr: redrawn in place (\r) on a terminal at most ten times a
/// second, else one line every five seconds so logs of a piped run stay short.
/// </summary>
internal sealed class ProgressBar(CliConsole console, string label, long total)
{
    private const int Width = 30;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastDraw;
    private long _done;
    private long _start = -1;

    public long Total { get; set; } = total;

    /// <summary>Rows that were already done before this run (a resumed import); they do not count towards the rate.</summary>
    public void Resume(long alreadyDone)
    {
        _done = alreadyDone;
        _start = alreadyDone;
    }

    public void Report(long done)
    {
        _done = done;
        var now = _clock.Elapsed;
        var interval = console.ErrorIsTerminal ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(5);
        if (_lastDraw is not { } last || now - last >= interval)
        {
            _lastDraw = now;
            Draw(final: false);
        }
    }

    public void Finish()
    {
        Draw(final: true);
    }

    private void Draw(bool final)
    {
        var elapsed = _clock.Elapsed.TotalSeconds;
        var counted = _done - Math.Max(_start, 0);
        var rate = elapsed > 0 ? counted / elapsed : 0;
        var text = new System.Text.StringBuilder(label).Append(' ');
        if (Total > 0)
        {
            var fraction = Math.Clamp((double)_done / Total, 0, 1);
            var filled = (int)(fraction * Width);
            text.Append('[').Append('#', filled).Append('.', Width - filled).Append("] ")
                .Append(CultureInfo.InvariantCulture, $"{_done:N0}/{Total:N0} ({fraction:P0})");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"{_done:N0}");
        }

        text.Append(CultureInfo.InvariantCulture, $"  {rate:N0} rows/s");
        if (final)
        {
            text.Append(CultureInfo.InvariantCulture, $"  in {Format(TimeSpan.FromSeconds(elapsed))}");
        }
        else if (Total > 0 && rate > 0)
        {
            text.Append("  ETA ").Append(Format(TimeSpan.FromSeconds(Math.Max(0, Total - _done) / rate)));
        }

        if (console.ErrorIsTerminal)
        {
            // Pad so a shorter line fully covers the previous one.
            console.Error.Write("\r" + text.ToString().PadRight(100));
            if (final)
            {
                console.Error.WriteLine();
            }
        }
        else
        {
            console.Error.WriteLine(text.ToString());
        }

        console.Error.Flush();
    }

    private static string Format(TimeSpan t) =>
        t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
}
