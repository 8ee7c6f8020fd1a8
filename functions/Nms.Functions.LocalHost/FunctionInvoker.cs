using System.Collections.Concurrent;
using System.ComponentModel;
using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Nms.Functions.LocalHost;

/// <summary>
/// Invokes one function: a fresh DI scope, the class built through the app's own container,
/// parameters bound from the trigger value, route values and the cancellation token.
/// </summary>
/// <remarks>
/// Each function's constructor call, method call and result read are compiled once, on its first
/// invocation, as the Worker SDK's generated invokers are at build time. Reflection per call
/// (ConstructorInfo/MethodInfo.Invoke, PropertyInfo.GetValue on the returned task's runtime type)
/// re-emitted its invoke stubs whenever a GC had dropped the runtime's weakly held member cache,
/// and the finalizer thread then spent its time destroying them.
/// </remarks>
public sealed class FunctionInvoker(IServiceScopeFactory scopes)
{
    private readonly ConcurrentDictionary<FunctionDescriptor, Plan> plans = new(ReferenceEqualityComparer.Instance);

    public async Task<object?> InvokeAsync(FunctionDescriptor function, object? triggerValue, HttpContext? http, CancellationToken cancellationToken)
    {
        var plan = plans.GetOrAdd(function, Plan.Create);
        await using var scope = scopes.CreateAsyncScope();
        var target = plan.Activate(scope.ServiceProvider);
        try
        {
            var returned = plan.Call(target, triggerValue, http, cancellationToken);
            return await plan.Unwrap(returned);
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

    private static bool IsRouteValueType(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        return underlying.IsPrimitive || underlying == typeof(string) || underlying == typeof(Guid) || underlying == typeof(decimal);
    }

    private delegate object? Invocation(object? target, object? triggerValue, HttpContext? http, CancellationToken cancellationToken);

    private sealed class Plan
    {
        private static readonly MethodInfo ArgumentOf = typeof(Plan).GetMethod(nameof(Argument), BindingFlags.NonPublic | BindingFlags.Static)!;
        private static readonly MethodInfo RouteValueOf = typeof(Plan).GetMethod(nameof(RouteValue), BindingFlags.NonPublic | BindingFlags.Static)!;

        private readonly Func<IServiceProvider, object?> activate;
        private readonly Invocation call;
        private readonly Func<object?, Task<object?>> unwrap;

        private Plan(Func<IServiceProvider, object?> activate, Invocation call, Func<object?, Task<object?>> unwrap)
        {
            this.activate = activate;
            this.call = call;
            this.unwrap = unwrap;
        }

        public object? Activate(IServiceProvider services) => activate(services);

        public object? Call(object? target, object? triggerValue, HttpContext? http, CancellationToken cancellationToken) =>
            call(target, triggerValue, http, cancellationToken);

        public Task<object?> Unwrap(object? returned) => unwrap(returned);

        public static Plan Create(FunctionDescriptor function) =>
            new(Activator(function.Method), Compile(function), Unwrapper(function.Method.ReturnType));

        /// <summary>
        /// One public constructor: a factory compiled once, resolving the same services as CreateInstance would.
        /// Several: CreateInstance per call, which picks among them by the services the container has.
        /// </summary>
        private static Func<IServiceProvider, object?> Activator(MethodInfo method)
        {
            if (method.IsStatic)
            {
                return _ => null;
            }

            var type = method.DeclaringType!;
            if (type.GetConstructors().Length != 1)
            {
                return services => ActivatorUtilities.CreateInstance(services, type);
            }

            var factory = ActivatorUtilities.CreateFactory(type, Type.EmptyTypes);
            return services => factory(services, null);
        }

        private static Invocation Compile(FunctionDescriptor function)
        {
            var method = function.Method;
            var target = Expression.Parameter(typeof(object), "target");
            var trigger = Expression.Parameter(typeof(object), "triggerValue");
            var http = Expression.Parameter(typeof(HttpContext), "http");
            var token = Expression.Parameter(typeof(CancellationToken), "cancellationToken");
            var arguments = method.GetParameters().Select(parameter => parameter == function.TriggerParameter
                    ? Expression.Call(ArgumentOf.MakeGenericMethod(parameter.ParameterType), trigger)
                    : parameter.ParameterType == typeof(CancellationToken)
                        ? (Expression)token
                        : Expression.Call(ArgumentOf.MakeGenericMethod(parameter.ParameterType),
                            Expression.Call(RouteValueOf, Expression.Constant(parameter), http)));
            var invocation = Expression.Call(method.IsStatic ? null : Expression.Convert(target, method.DeclaringType!), method, arguments);
            Expression body = method.ReturnType == typeof(void)
                ? Expression.Block(invocation, Expression.Constant(null, typeof(object)))
                : Expression.Convert(invocation, typeof(object));
            return Expression.Lambda<Invocation>(body, $"Invoke_{function.Name}", [target, trigger, http, token]).Compile();
        }

        /// <summary>As reflection's Invoke binds: null for a value type is its default.</summary>
        private static T Argument<T>(object? value) => value is null ? default! : (T)value;

        private static object? RouteValue(ParameterInfo parameter, HttpContext? http)
        {
            var raw = http?.Request.RouteValues.TryGetValue(parameter.Name!, out var value) == true ? value?.ToString() : null;
            if (raw is null)
            {
                return parameter.HasDefaultValue ? parameter.DefaultValue : null;
            }

            var type = Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType;
            return TypeDescriptor.GetConverter(type).ConvertFromString(null, CultureInfo.InvariantCulture, raw);
        }

        /// <summary>The result is read through the declared return type, as the Worker SDK's invokers do.</summary>
        private static Func<object?, Task<object?>> Unwrapper(Type returnType)
        {
            if (returnType == typeof(Task))
            {
                return AwaitTask;
            }

            if (returnType == typeof(ValueTask))
            {
                return AwaitValueTask;
            }

            if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() is var definition
                && (definition == typeof(Task<>) || definition == typeof(ValueTask<>)))
            {
                var awaiter = definition == typeof(Task<>) ? nameof(AwaitTaskOf) : nameof(AwaitValueTaskOf);
                return typeof(Plan).GetMethod(awaiter, BindingFlags.NonPublic | BindingFlags.Static)!
                    .MakeGenericMethod(returnType.GetGenericArguments()[0])
                    .CreateDelegate<Func<object?, Task<object?>>>();
            }

            return Task.FromResult;
        }

        private static async Task<object?> AwaitTask(object? returned)
        {
            await (Task)returned!;
            return null;
        }

        private static async Task<object?> AwaitValueTask(object? returned)
        {
            await (ValueTask)returned!;
            return null;
        }

        private static async Task<object?> AwaitTaskOf<T>(object? returned) => await (Task<T>)returned!;

        private static async Task<object?> AwaitValueTaskOf<T>(object? returned) => await (ValueTask<T>)returned!;
    }
}
