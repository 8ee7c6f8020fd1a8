using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace Nms.Functions.Http;

/// <summary>Runs <see cref="ApiGate"/> around HTTP functions under the Azure Functions host.</summary>
public sealed class ApiGateMiddleware(ApiGate gate) : IFunctionsWorkerMiddleware
{
    private static readonly ConcurrentDictionary<string, MethodInfo> Methods = new(StringComparer.Ordinal);

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        var http = context.GetHttpContext();
        if (http is null)
        {
            await next(context);
            return;
        }

        var method = Methods.GetOrAdd(context.FunctionDefinition.EntryPoint, EntryPointMethod);
        await gate.InvokeAsync(http, method, () => next(context));
    }

    /// <summary>"Namespace.Class.Method" → the method, found in this assembly.</summary>
    internal static MethodInfo EntryPointMethod(string entryPoint)
    {
        var dot = entryPoint.LastIndexOf('.');
        var type = typeof(ApiGateMiddleware).Assembly.GetType(entryPoint[..dot], throwOnError: true)!;
        return type.GetMethod(entryPoint[(dot + 1)..], BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            ?? throw new InvalidOperationException($"No method for entry point {entryPoint}.");
    }
}
