using OpenIddict.Validation.AspNetCore;
using ScaiKey.Api.Access;
using ScaiKey.Api.Applications;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Email;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Groups;
using ScaiKey.Api.Health;
using ScaiKey.Api.Hosting;
using ScaiKey.Api.Http;
using ScaiKey.Api.IdentityProviders;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.OpenIdConnect;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Telemetry;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Api.Sql;

// `scaikey import|export|seed ...`: the same executable and configuration, without the web server.
if (ScaiKey.Api.Cli.CliRunner.IsCommand(args))
{
    Environment.ExitCode = await ScaiKey.Api.Cli.CliRunner.MainAsync(args);
    return;
}

var builder = WebApplication.CreateBuilder(args);
var configuration = builder.Configuration;

// OpenIddict writes whole tokens at Trace level; tokens must never reach a log, whatever the configured level.
// These rules are more specific than any "OpenIddict" setting, so they must carry the configured level, only
// raised to Debug where Trace was asked for (a fixed Debug here once switched Debug logging on in production).
var openIddictLevel = (LogLevel)Math.Max((int)LogLevel.Debug, (int)configuration.GetValue(
    "Logging:LogLevel:OpenIddict", configuration.GetValue("Logging:LogLevel:Default", LogLevel.Information)));
foreach (var category in new[]
{
    "OpenIddict.Validation.OpenIddictValidationDispatcher", "OpenIddict.Validation.AspNetCore.OpenIddictValidationAspNetCoreHandler",
})
{
    builder.Logging.AddFilter(category, openIddictLevel);
}

// The server's dispatcher and handler log every request and response from Information up. They redact the standard
// OAuth secrets but know nothing of the MFA grant's (otp, recovery_code, mfa_token), so they stay at Warning whatever
// the configured level: refusals and errors still show, request dumps never do.
foreach (var category in new[] { "OpenIddict.Server.OpenIddictServerDispatcher", "OpenIddict.Server.AspNetCore.OpenIddictServerAspNetCoreHandler" })
{
    builder.Logging.AddFilter(category, (LogLevel)Math.Max((int)LogLevel.Warning, (int)openIddictLevel));
}

builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = JsonBody.MaxBytes);
builder.Services.ConfigureHttpJsonOptions(options => ApiJson.Configure(options.SerializerOptions));
builder.Services.AddScaiKeyCore(configuration);
builder.Services.AddScaiKeyTelemetry(configuration);
builder.Services.AddScaiKeyForwardedHeaders(configuration);
builder.Services.AddScaiKeyTransportSecurity(configuration);
builder.Services.AddOpenIdConnectServer(configuration);
builder.Services.AddScaiKeyBearerAuthentication();
builder.Services.AddScaiKeySignInCookies();
builder.Services.AddScaiKeyDataProtection();
ScaiKey.Api.Health.HealthChecks.AddScaiKeyHealthChecks(builder.Services);
builder.Services.AddScaiKeyAuthorization();
builder.Services.AddScaiKeyConsoleClient();
ScaiKey.Api.AdminConsole.ConsoleSetup.AddAdminConsole(builder.Services);
builder.Services.AddScoped<Caller>();
builder.Services.AddScoped<AuditLog>();
builder.Services.AddScoped<EmailOutbox>();
builder.Services.AddScaiKeyEmailDelivery(configuration);
AttemptLimiter.AddTo(builder.Services, configuration);
builder.Services.AddScoped<Idempotency>();
builder.Services.AddScoped<UserReads>();
builder.Services.AddSingleton<UserRowReader>();
builder.Services.AddSingleton<SignInStatements>();
builder.Services.AddSingleton<SecondFactorStatements>();
builder.Services.AddSingleton<SearchTotals>();
builder.Services.AddSingleton<PageAnchors>();
builder.Services.AddScoped<UserListQuery>();
builder.Services.AddScoped<UserCommands>();
builder.Services.AddScoped<PasswordChanges>();
builder.Services.AddScoped<AccountEmails>();
builder.Services.AddScoped<Bootstrap>();
builder.Services.AddScoped<SignInService>();
builder.Services.AddScoped<TokenPrincipals>();
builder.Services.AddScoped<ScaiKey.Api.Mfa.SecondFactors>();
builder.Services.AddScoped<ScaiKey.Api.Account.AccountService>();
ScaiKey.Api.Mfa.Passkeys.PasskeyRelyingParty.AddTo(builder.Services);
builder.Services.AddScoped<MfaChallenges>();
ScaiKey.Api.Federation.FederationSetup.AddScaiKeyFederation(builder.Services);
ScaiKey.Api.Operations.HousekeepingService.AddTo(builder.Services);
builder.Services.AddScoped<SecondFactorSignIn>();
builder.Services.AddSingleton<OpenApiDocumentBuilder>();
ScaiKey.Api.Scim.ScimSetup.AddScimProvisioning(builder.Services, configuration);

var app = builder.Build();

// Settings, database and key ring checked before anything listens; what an operator must fix ends the process with one line.
if (!await StartupFailure.PrepareAsync(app))
{
    return;
}

await using (var scope = app.Services.CreateAsyncScope())
{
    await scope.ServiceProvider.GetRequiredService<Bootstrap>().RunAsync(CancellationToken.None);
}

// First: everything after it (limits, sessions, audit, HSTS, cookies, URLs) sees the client, not the proxy.
app.UseScaiKeyForwardedHeaders();
ScaiKey.Api.AdminConsole.ConsoleClientAddress.Use(app);
app.UseHsts();
app.UseMiddleware<RequestIdMiddleware>();
app.UseMiddleware<ErrorHandlingMiddleware>();
app.UseScaiKeyAuthentication();
app.UseAuthorization();

app.MapHealth();
app.MapScaiKeyMetrics();
app.MapOpenApiDocuments();
app.MapOpenIdConnectServer();
app.MapHostedSignIn();
app.MapPartners();
app.MapTenants();
app.MapOrganizationalUnits();
app.MapGroups();
app.MapApplications();
app.MapUsers();
app.MapIdentityProviders();
app.MapFederatedIdentities();
ScaiKey.Api.Federation.FederationSetup.MapFederation(app);
ScaiKey.Api.Consents.ConsentEndpoints.MapConsents(app);
app.MapAdminUsers();
ScaiKey.Api.Account.AccountEndpoints.MapAccount(app);
app.MapAudit();
app.MapAdminAudit();
app.MapRoleAssignments();
app.MapAdminClients();
app.MapSigningKeys();
ScaiKey.Api.AdminConsole.ConsoleSetup.MapAdminConsole(app);
ScaiKey.Api.Scim.ScimSetup.MapScim(app);

await app.RunAsync();

/// <summary>Entry point; public so integration tests can host it.</summary>
public partial class Program;
