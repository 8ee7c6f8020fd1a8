using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Alerting;
using Nms.Core.Api;
using Nms.Core.Entities;
using Nms.Functions.Entities;
using Nms.Functions.Http;

namespace Nms.Functions.Alerting;

/// <summary>/api/notification_channels: readers see settings and delivery state; admins write and send tests. Secrets are write-only.</summary>
public sealed class ChannelFunctions(ChannelService channels, NotificationDelivery delivery)
{
    private const string Collection = "notification_channels";
    private const string Item = "notification_channels/{id}";

    [Function("ListNotificationChannels")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Function, "get", Route = Collection)] HttpRequest request, CancellationToken cancellationToken) =>
        ApiHttp.Ok(new ItemList<Channel>(await channels.ListAsync(cancellationToken)));

    [Function("CreateNotificationChannel")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Function, "post", Route = Collection)] HttpRequest request, CancellationToken cancellationToken)
    {
        var channel = await channels.CreateAsync(await HttpJson.ReadAsync<ChannelRequest>(request, cancellationToken), cancellationToken);
        return ApiHttp.Created(channel, $"/api/{Collection}/{channel.Id}");
    }

    [Function("GetNotificationChannel")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Function, "get", Route = Item)] HttpRequest request, string id, CancellationToken cancellationToken) =>
        ApiHttp.Ok(await channels.GetAsync(ParseId(id), cancellationToken));

    [Function("ReplaceNotificationChannel")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Replace([HttpTrigger(AuthorizationLevel.Function, "put", Route = Item)] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var channelId = ParseId(id);
        return ApiHttp.Ok(await channels.ReplaceAsync(channelId, await HttpJson.ReadAsync<ChannelRequest>(request, cancellationToken), cancellationToken));
    }

    [Function("DeleteNotificationChannel")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Delete([HttpTrigger(AuthorizationLevel.Function, "delete", Route = Item)] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        await channels.DeleteAsync(ParseId(id), cancellationToken);
        return ApiHttp.NoContent();
    }

    [Function("TestNotificationChannel")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Test([HttpTrigger(AuthorizationLevel.Function, "post", Route = "notification_channels/{id}/test")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        ApiHttp.Ok(await delivery.SendTestAsync(ParseId(id), cancellationToken));

    private static long ParseId(string id) => ApiHttp.Id(id, "notification channel");
}
