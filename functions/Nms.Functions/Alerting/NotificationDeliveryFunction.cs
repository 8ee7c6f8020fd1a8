using Microsoft.Azure.Functions.Worker;
using Nms.Core.Alerting;
using Nms.Core.Resilience;

namespace Nms.Functions.Alerting;

/// <summary>Delivers one notification group to its channel; failures retry and end in the poison queue.</summary>
public sealed class NotificationDeliveryFunction(NotificationDelivery delivery, ConsumerGate gate)
{
    [Function("NotificationDelivery")]
    public Task Run(
        [QueueTrigger("%NmsNotificationsQueue%", Connection = "AzureWebJobsStorage")] NotificationMessage message,
        CancellationToken cancellationToken) =>
        gate.RunAsync("NotificationDelivery", ct => delivery.DeliverAsync(message, ct), cancellationToken);
}
