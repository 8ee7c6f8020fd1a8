using Microsoft.Azure.Functions.Worker;
using Nms.Core.Alerting;

namespace Nms.Functions.Alerting;

/// <summary>Evaluates every rule (schedule: app setting NmsAlertingSchedule); one run at a time across instances.</summary>
public sealed class AlertEvaluationFunction(AlertEvaluator evaluator)
{
    [Function("AlertEvaluation")]
    public Task Run([TimerTrigger("%NmsAlertingSchedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        evaluator.EvaluateAsync(cancellationToken);
}
