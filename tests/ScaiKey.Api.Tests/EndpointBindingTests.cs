using System.CodeDom.Compiler;
using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The minimal APIs' request delegates are made by the request delegate generator at build time (docs/decisions.md,
/// "Request delegates generated at build time"): building them from expression trees at start-up was a quarter of the
/// test suite's CPU and the service's own start-up cost. The generator cannot ask the container which parameters are
/// services, so a service parameter without [FromServices] is bound as "JSON body or service" and its endpoint
/// declares it accepts only JSON (a form post to it was refused). These rules keep both from coming back.
/// </summary>
public sealed class EndpointBindingTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    // The SCIM resources are mapped through one generic handler per verb, which the generator does not take (RDG011).
    private static readonly string[] BuiltAtStartUp = ["/scim/v2/Users", "/scim/v2/Groups"];

    private List<RouteEndpoint> Endpoints() =>
        [.. app.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<MethodInfo>() is not null)];

    [Fact]
    public void Every_endpoint_but_the_generic_scim_ones_has_a_generated_request_delegate()
    {
        var endpoints = Endpoints();
        var runtime = endpoints
            .Where(e => !e.Metadata.OfType<GeneratedCodeAttribute>().Any(g => g.Tool?.StartsWith("Microsoft.AspNetCore.Http.RequestDelegateGenerator", StringComparison.Ordinal) == true))
            .Select(e => e.RoutePattern.RawText ?? string.Empty)
            .Where(route => !BuiltAtStartUp.Any(route.StartsWith))
            .Distinct().Order().ToList();

        Assert.True(endpoints.Count > 100, $"only {endpoints.Count} endpoints found; the scan is broken");
        Assert.True(runtime.Count == 0, "Endpoints built from expression trees at start-up:\n" + string.Join("\n", runtime));
    }

    [Fact]
    public void Service_parameters_of_handlers_are_marked_from_services()
    {
        var services = app.Host.Services.GetRequiredService<IServiceProviderIsService>();
        var offenders = new List<string>();
        var checkedParameters = 0;
        foreach (var endpoint in Endpoints())
        {
            var handler = endpoint.Metadata.GetMetadata<MethodInfo>()!;
            foreach (var parameter in handler.GetParameters())
            {
                var bound = parameter.GetCustomAttribute<AsParametersAttribute>() is null
                    ? [(parameter.Name, parameter.ParameterType, Marked: parameter.GetCustomAttribute<FromServicesAttribute>() is not null)]
                    : parameter.ParameterType.GetProperties()
                        .Select(p => ((string?)p.Name, p.PropertyType, Marked: p.GetCustomAttribute<FromServicesAttribute>() is not null)).ToArray();
                foreach (var (name, type, marked) in bound)
                {
                    if (type == typeof(HttpContext) || type == typeof(CancellationToken) || !services.IsService(type))
                    {
                        continue;
                    }

                    checkedParameters++;
                    if (!marked)
                    {
                        offenders.Add($"{endpoint.RoutePattern.RawText} {handler.DeclaringType?.Name}.{handler.Name}: {type.Name} {name}");
                    }
                }
            }
        }

        // Control: the scan sees the services handlers take (the database context, the audit log ...).
        Assert.True(checkedParameters > 100, $"only {checkedParameters} service parameters found; the scan is broken");
        Assert.True(offenders.Count == 0, "Service parameters without [FromServices]:\n" + string.Join("\n", offenders.Distinct().Order()));
    }
}
