using System.Reflection;
using ScaiKey.Api.Errors;

namespace ScaiKey.Api.Http;

/// <summary>
/// A handler argument that knows whether it is valid: it adds its problems (pydantic-style, in the order the
/// 422's detail lists them) and <see cref="RequestValidation"/> answers the 422 before the handler runs, so a
/// handler only reads bind, authorize, call, translate.
/// </summary>
internal interface IValidatable
{
    void Validate(ValidationErrors errors);
}

/// <summary>
/// Query-string input of one endpoint, read once when the argument is bound (minimal APIs call the type's
/// <c>BindAsync</c>); what failed to parse is kept for <see cref="Validate"/>. A derived record declares
/// <c>public static ValueTask&lt;T?&gt; BindAsync(HttpContext http) =&gt; BindAsync(http, Read);</c>.
/// </summary>
internal abstract record QueryInput : IValidatable
{
    private ValidationErrors? _problems;

    public void Validate(ValidationErrors errors) => errors.AddRange(_problems);

    protected static ValueTask<T?> BindAsync<T>(HttpContext http, Func<HttpContext, ValidationErrors, T> read)
        where T : QueryInput
    {
        var problems = new ValidationErrors();
        var input = read(http, problems);
        input._problems = problems.Any ? problems : null;
        return ValueTask.FromResult<T?>(input);
    }
}

/// <summary>The page and per_page of a list that reads nothing else.</summary>
internal sealed record PagingQuery(PageRequest Paging) : QueryInput
{
    public static ValueTask<PagingQuery?> BindAsync(HttpContext http) => BindAsync(http, static (h, e) => new PagingQuery(PageRequest.Read(h, e)));
}

internal static class RequestValidation
{
    /// <summary>
    /// Validates the <see cref="IValidatable"/> arguments of every endpoint in the group and answers the 422 in
    /// the contract's shape when one fails. Installed only on handlers that take such an argument: the others
    /// pay nothing.
    /// </summary>
    public static TBuilder ValidatesInput<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        // The mark lets a test find an IValidatable argument on a route that would never be validated.
        builder.Add(static endpoint => endpoint.Metadata.Add(Marker.Instance));
        return builder.AddEndpointFilterFactory(static (context, next) =>
        {
            var positions = Positions(context.MethodInfo);
            return positions.Length == 0 ? next : invocation => ValidateAsync(invocation, positions, next);
        });
    }

    /// <summary>Endpoint metadata: the endpoint's <see cref="IValidatable"/> arguments are validated.</summary>
    internal sealed class Marker
    {
        public static readonly Marker Instance = new();

        private Marker()
        {
        }
    }

    internal static int[] Positions(MethodInfo method) =>
        method.GetParameters().Where(p => typeof(IValidatable).IsAssignableFrom(p.ParameterType)).Select(p => p.Position).ToArray();

    internal static ValueTask<object?> ValidateAsync(EndpointFilterInvocationContext invocation, int[] positions, EndpointFilterDelegate next)
    {
        ValidationErrors? errors = null;
        foreach (var position in positions)
        {
            if (invocation.Arguments[position] is IValidatable input)
            {
                input.Validate(errors ??= new ValidationErrors());
            }
        }

        return errors is { Any: true } ? ValueTask.FromResult<object?>(errors.ToResult()) : next(invocation);
    }
}
