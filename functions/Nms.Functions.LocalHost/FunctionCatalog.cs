using System.Reflection;
using Microsoft.Azure.Functions.Worker;

namespace Nms.Functions.LocalHost;

public enum TriggerKind
{
    Http,
    Queue,
    Timer,
}

/// <summary>One <c>[Function]</c> method and the trigger attribute on one of its parameters.</summary>
public sealed record FunctionDescriptor(string Name, MethodInfo Method, TriggerKind Kind, ParameterInfo TriggerParameter, Attribute Trigger)
{
    public HttpTriggerAttribute Http => (HttpTriggerAttribute)Trigger;
    public QueueTriggerAttribute Queue => (QueueTriggerAttribute)Trigger;
    public TimerTriggerAttribute Timer => (TimerTriggerAttribute)Trigger;
}

/// <summary>
/// Finds functions the way the Worker SDK does: by <see cref="FunctionAttribute"/>. There is no
/// second registration list to keep in sync.
/// </summary>
public static class FunctionCatalog
{
    public static IReadOnlyList<FunctionDescriptor> Discover(IEnumerable<Assembly> assemblies)
    {
        var functions = assemblies
            .SelectMany(assembly => assembly.GetTypes())
            .Where(type => type.IsClass && !type.IsAbstract || type.IsAbstract && type.IsSealed)
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Select(method => (method, function: method.GetCustomAttribute<FunctionAttribute>()))
            .Where(x => x.function is not null)
            .Select(x => Describe(x.function!.Name, x.method))
            .ToList();

        var duplicate = functions.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two functions are named '{duplicate.Key}'.");
        }

        return functions;
    }

    private static FunctionDescriptor Describe(string name, MethodInfo method)
    {
        foreach (var parameter in method.GetParameters())
        {
            if (parameter.GetCustomAttribute<HttpTriggerAttribute>() is { } http)
            {
                return new FunctionDescriptor(name, method, TriggerKind.Http, parameter, http);
            }

            if (parameter.GetCustomAttribute<QueueTriggerAttribute>() is { } queue)
            {
                return new FunctionDescriptor(name, method, TriggerKind.Queue, parameter, queue);
            }

            if (parameter.GetCustomAttribute<TimerTriggerAttribute>() is { } timer)
            {
                return new FunctionDescriptor(name, method, TriggerKind.Timer, parameter, timer);
            }
        }

        throw new InvalidOperationException($"Function '{name}' ({method.DeclaringType?.Name}.{method.Name}) has no trigger the local host supports (HTTP, queue, timer).");
    }
}
