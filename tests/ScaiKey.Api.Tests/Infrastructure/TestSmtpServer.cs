using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MimeKit;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>A message as the server received it: envelope and the parsed MIME message.</summary>
public sealed record ReceivedMail(string MailFrom, IReadOnlyList<string> Recipients, MimeMessage Message);

/// <summary>
/// A small real SMTP server on a loopback port (RFC 5321: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP,
/// QUIT), so delivery is tested over TCP with the real client rather than a fake sender. It records each message
/// and the credentials it was given, and can refuse transactions to show retries.
/// </summary>
public sealed class TestSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ReceivedMail> _received = new();
    private readonly ConcurrentQueue<(string User, string Password)> _logins = new();
    private readonly ConcurrentBag<Task> _sessions = [];
    private readonly Task _acceptLoop;
    private readonly X509Certificate2? _certificate;
    private readonly bool _tlsOnConnect;
    private int _refusalsLeft;
    private int _refused;
    private int _tlsSessions;

    public TestSmtpServer()
        : this(IPAddress.Loopback)
    {
    }

    /// <summary>A server on another local address (e.g. a network interface's, to be reached as a non-loopback host).</summary>
    public TestSmtpServer(IPAddress address)
        : this(address, null, tlsOnConnect: false)
    {
    }

    /// <summary>
    /// A server that speaks TLS with <paramref name="certificate"/>: from the first byte (<paramref name="tlsOnConnect"/>,
    /// port-465 style) or after STARTTLS, which it then offers in its EHLO answer.
    /// </summary>
    public TestSmtpServer(IPAddress address, X509Certificate2? certificate, bool tlsOnConnect)
    {
        _certificate = certificate;
        _tlsOnConnect = tlsOnConnect;
        _listener = new(address, 0);
        _listener.Start();
        _acceptLoop = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public IReadOnlyList<ReceivedMail> Received => [.. _received];

    public IReadOnlyList<(string User, string Password)> Logins => [.. _logins];

    /// <summary>How many MAIL commands were refused with 451 so far.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Sessions whose TLS handshake completed.</summary>
    public int TlsSessions => Volatile.Read(ref _tlsSessions);

    /// <summary>A self-signed certificate for localhost and 127.0.0.1, valid for a day.</summary>
    public static X509Certificate2 SelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Refuse the next <paramref name="count"/> transactions at MAIL FROM with 451 (a transient failure).</summary>
    public void RefuseNext(int count) => Interlocked.Exchange(ref _refusalsLeft, count);

    /// <summary>Refuse every transaction from now on (until <see cref="RefuseNext"/> resets it).</summary>
    public void RefuseAll() => RefuseNext(int.MaxValue);

    /// <summary>Messages for <paramref name="recipient"/> (several tests share a database, so filter by address).</summary>
    public IReadOnlyList<ReceivedMail> For(string recipient) =>
        _received.Where(m => m.Recipients.Contains(recipient, StringComparer.OrdinalIgnoreCase)).ToList();

    /// <summary>Waits until <paramref name="recipient"/> has a message (or fails after a generous limit) and returns it.</summary>
    public async Task<ReceivedMail> WaitForAsync(string recipient, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            if (For(recipient) is [var first, ..])
            {
                return first;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no message for {recipient} arrived; the server received {_received.Count} in all");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await Task.WhenAll([_acceptLoop, .. _sessions]).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            _sessions.Add(Task.Run(() => ServeAsync(client)));
        }
    }

    private async Task<Stream> StartTlsAsync(Stream inner)
    {
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
        Interlocked.Increment(ref _tlsSessions);
        return ssl;
    }

    private async Task ServeAsync(TcpClient tcp)
    {
        using var _ = tcp;
        Stream stream = tcp.GetStream();
        var tls = false;
        if (_tlsOnConnect && _certificate is not null)
        {
            stream = await StartTlsAsync(stream);
            tls = true;
        }

        // Latin-1 maps bytes to chars one to one, so whatever the client sends comes back out unchanged for MimeKit.
        var reader = new StreamReader(stream, Encoding.Latin1, detectEncodingFromByteOrderMarks: false);
        var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
        string? mailFrom = null;
        var recipients = new List<string>();
        try
        {
            await writer.WriteLineAsync("220 localhost ESMTP ScaiKey test server");
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                var verb = (line.Length >= 4 ? line[..4] : line).ToUpperInvariant();
                var argument = line.Length > 5 ? line[5..] : string.Empty;
                switch (verb)
                {
                    case "STAR" when line.Equals("STARTTLS", StringComparison.OrdinalIgnoreCase) && _certificate is not null && !tls:
                        await writer.WriteLineAsync("220 2.0.0 Ready to start TLS");
                        stream = await StartTlsAsync(stream);
                        tls = true;
                        reader = new StreamReader(stream, Encoding.Latin1, detectEncodingFromByteOrderMarks: false);
                        writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
                        mailFrom = null;
                        recipients.Clear();
                        break;
                    case "EHLO":
                        await writer.WriteLineAsync("250-localhost greets " + argument);
                        if (_certificate is not null && !tls)
                        {
                            await writer.WriteLineAsync("250-STARTTLS");
                        }

                        await writer.WriteLineAsync("250-AUTH PLAIN");
                        await writer.WriteLineAsync("250 HELP");
                        break;
                    case "HELO":
                        await writer.WriteLineAsync("250 localhost");
                        break;
                    case "AUTH":
                        await AuthenticateAsync(argument, reader, writer);
                        break;
                    case "MAIL":
                        if (TakeRefusal())
                        {
                            await writer.WriteLineAsync("451 4.3.0 Temporarily unable to accept mail, try again later");
                            break;
                        }

                        mailFrom = Address(argument);
                        recipients.Clear();
                        await writer.WriteLineAsync("250 2.1.0 Sender OK");
                        break;
                    case "RCPT":
                        if (mailFrom is null)
                        {
                            await writer.WriteLineAsync("503 5.5.1 MAIL first");
                            break;
                        }

                        recipients.Add(Address(argument));
                        await writer.WriteLineAsync("250 2.1.5 Recipient OK");
                        break;
                    case "DATA":
                        if (mailFrom is null || recipients.Count == 0)
                        {
                            await writer.WriteLineAsync("503 5.5.1 MAIL and RCPT first");
                            break;
                        }

                        await writer.WriteLineAsync("354 End data with <CR><LF>.<CR><LF>");
                        var data = await ReadDataAsync(reader);
                        using (var raw = new MemoryStream(Encoding.Latin1.GetBytes(data)))
                        {
                            _received.Enqueue(new ReceivedMail(mailFrom, [.. recipients], await MimeMessage.LoadAsync(raw)));
                        }

                        mailFrom = null;
                        recipients.Clear();
                        await writer.WriteLineAsync("250 2.0.0 Queued");
                        break;
                    case "RSET":
                        mailFrom = null;
                        recipients.Clear();
                        await writer.WriteLineAsync("250 2.0.0 OK");
                        break;
                    case "NOOP":
                        await writer.WriteLineAsync("250 2.0.0 OK");
                        break;
                    case "QUIT":
                        await writer.WriteLineAsync("221 2.0.0 Bye");
                        return;
                    default:
                        await writer.WriteLineAsync("502 5.5.2 Command not implemented");
                        break;
                }
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
            // The client went away mid-session; nothing to record.
        }
    }

    private bool TakeRefusal()
    {
        while (true)
        {
            var left = Volatile.Read(ref _refusalsLeft);
            if (left <= 0)
            {
                return false;
            }

            var next = left == int.MaxValue ? left : left - 1;
            if (Interlocked.CompareExchange(ref _refusalsLeft, next, left) == left)
            {
                Interlocked.Increment(ref _refused);
                return true;
            }
        }
    }

    /// <summary>AUTH PLAIN, with the initial response on the line or after a 334 (RFC 4616: authzid NUL user NUL password).</summary>
    private async Task AuthenticateAsync(string argument, StreamReader reader, StreamWriter writer)
    {
        var parts = argument.Split(' ', 2);
        if (!parts[0].Equals("PLAIN", StringComparison.OrdinalIgnoreCase))
        {
            await writer.WriteLineAsync("504 5.5.4 Unrecognized authentication type");
            return;
        }

        var response = parts.Length == 2 ? parts[1] : null;
        if (response is null)
        {
            await writer.WriteLineAsync("334 ");
            response = await reader.ReadLineAsync(_stop.Token) ?? string.Empty;
        }

        var fields = Encoding.UTF8.GetString(Convert.FromBase64String(response)).Split('\0');
        if (fields.Length != 3)
        {
            await writer.WriteLineAsync("501 5.5.2 Malformed PLAIN response");
            return;
        }

        _logins.Enqueue((fields[1], fields[2]));
        await writer.WriteLineAsync("235 2.7.0 Authentication successful");
    }

    /// <summary>DATA up to the lone dot, with dot-stuffing undone (RFC 5321 4.5.2).</summary>
    private async Task<string> ReadDataAsync(StreamReader reader)
    {
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(_stop.Token) is { } line && line != ".")
        {
            data.Append(line.StartsWith('.') ? line[1..] : line).Append("\r\n");
        }

        return data.ToString();
    }

    private static string Address(string argument)
    {
        var start = argument.IndexOf('<', StringComparison.Ordinal);
        var end = argument.IndexOf('>', StringComparison.Ordinal);
        return start >= 0 && end > start ? argument[(start + 1)..end] : argument;
    }
}
