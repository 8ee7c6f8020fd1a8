using Microsoft.Azure.Functions.Worker;
using Nms.Core.Alerting;

namespace Nms.Functions.Alerting;

/// <summary>Delivers one notification group to its channel; failures retry and end in the poison queue.</summary>
public sealed class NotificationDeliveryFunction(NotificationDelivery delivery)
{
    [Function("NotificationDelivery")]
    public Task Run(
        [QueueTrigger("%NmsNotificationsQueue%", Connection = "AzureWebJobsStorage")] NotificationMessage message,
        CancellationToken cancellationToken) =>
        delivery.DeliverAsync(message, cancellationToken);
}
