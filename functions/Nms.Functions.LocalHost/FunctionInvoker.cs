using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Nms.Functions.LocalHost;

/// <summary>
/// Invokes one function: a fresh DI scope, the class built through the app's own container,
/// parameters bound from the trigger value, route values and the cancellation token.
/// </summary>
public sealed class FunctionInvoker(IServiceScopeFactory scopes)
{
    public async Task<object?> InvokeAsync(FunctionDescriptor function, object? triggerValue, HttpContext? http, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var method = function.Method;
        var target = method.IsStatic ? null : ActivatorUtilities.CreateInstance(scope.ServiceProvider, method.DeclaringType!);
        try
        {
            var arguments = method.GetParameters()
                .Select(parameter => Bind(function, parameter, triggerValue, http, cancellationToken))
                .ToArray();
            object? returned;
            try
            {
                returned = method.Invoke(target, arguments);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                throw;
            }

            return await Unwrap(returned);
        }
        finally
        {
            switch (target)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }

    /// <summary>Fails at start-up, not at the first message, for a parameter nobody can bind.</summary>
    public static void Validate(FunctionDescriptor function)
    {
        foreach (var parameter in function.Method.GetParameters())
        {
            var bindable = parameter == function.TriggerParameter
                || parameter.ParameterType == typeof(CancellationToken)
                || function.Kind == TriggerKind.Http && IsRouteValueType(parameter.ParameterType);
            if (!bindable)
            {
                throw new InvalidOperationException(
                    $"Function '{function.Name}': the local host cannot bind parameter '{parameter.Name}' of type {parameter.ParameterType.Name}. Use constructor injection.");
            }
        }
    }

    private static object? Bind(FunctionDescriptor function, ParameterInfo parameter, object? triggerValue, HttpContext? http, CancellationToken cancellationToken)
    {
        if (parameter == function.TriggerParameter)
        {
            return triggerValue;
        }

        if (parameter.ParameterType == typeof(CancellationToken))
        {
            return cancellationToken;
        }

        var raw = http?.Request.RouteValues.TryGetValue(parameter.Name!, out var value) == true ? value?.ToString() : null;
        if (raw is null)
        {
            return parameter.HasDefaultValue ? parameter.DefaultValue : null;
        }

        var type = Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType;
        return TypeDescriptor.GetConverter(type).ConvertFromString(null, CultureInfo.InvariantCulture, raw);
    }

    private static bool IsRouteValueType(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        return underlying.IsPrimitive || underlying == typeof(string) || underlying == typeof(Guid) || underlying == typeof(decimal);
    }

    private static async Task<object?> Unwrap(object? returned)
    {
        switch (returned)
        {
            case Task task:
                await task;
                var type = task.GetType();
                return type.IsGenericType ? type.GetProperty("Result")!.GetValue(task) : null;
            case ValueTask valueTask:
                await valueTask;
                return null;
            default:
                return returned;
        }
    }
}
