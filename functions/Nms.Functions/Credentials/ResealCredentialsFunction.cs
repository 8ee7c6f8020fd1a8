using Microsoft.Azure.Functions.Worker;
using Nms.Core.Credentials;
using Nms.Core.Entities;

namespace Nms.Functions.Credentials;

/// <summary>
/// Key rotation, second half: after Nms:Crypto:ActiveKeyId moves to a new key, this re-seals the
/// credential profiles still sealed under older keys, a batch at a time, on the maintenance
/// schedule. Once no row names the old key id, the old key can leave Nms:Crypto:Keys.
/// </summary>
public sealed class ResealCredentialsFunction(CredentialProfileService profiles)
{
    private const int BatchSize = 200;
    private const int MaxBatchesPerRun = 50;

    [Function("ResealCredentials")]
    public async Task Run([TimerTrigger("%NmsMaintenanceSchedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        for (var batch = 0; batch < MaxBatchesPerRun; batch++)
        {
            if (await profiles.ResealAsync(BatchSize, cancellationToken) < BatchSize)
            {
                return;
            }
        }
    }
}
