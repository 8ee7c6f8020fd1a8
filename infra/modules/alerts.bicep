// Azure Monitor alerts on the NMS's own telemetry in Application Insights: messages moved to a poison queue, and
// poll lag. Both are log search alerts over the workspace-based component, because the queue service's metrics have
// no per-queue dimension and the poll lag is the app's own histogram (nms.polling.poll_lag, OpenTelemetry).

param location string
param namePrefix string
param appInsightsId string

@description('Poll lag (seconds, average over 5 minutes) above which the lag alert fires.')
param pollLagThresholdSeconds int = 30

@description('Email address the alerts notify; empty for none (the alerts still fire and show in the portal).')
param alertEmail string = ''

param tags object

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take(namePrefix, 12)
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var actions = empty(alertEmail) ? [] : [actionGroup.id]

// The Functions host logs "Moving message to queue '<name>-poison'"; the local host logs "moved to <name>-poison".
resource poisonAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-${namePrefix}-poison-messages'
  location: location
  tags: tags
  properties: {
    displayName: 'NMS: messages moved to a poison queue'
    description: 'A queue message failed maxDequeueCount times and sits in <queue>-poison. Inspect and replay it once the cause is fixed.'
    severity: 2
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'AppTraces | where Message has "-poison" and (Message has "Moving message to queue" or Message has "moved to")'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: actions
    }
  }
}

// nms.queue.poison_messages: each poison queue's message count at the app's last sample (Nms:Queues:SampleSeconds),
// a gauge tagged with the queue. Fires for as long as any poison queue is not empty, not only when a message moves.
resource poisonNotEmptyAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-${namePrefix}-poison-not-empty'
  location: location
  tags: tags
  properties: {
    displayName: 'NMS: a poison queue is not empty'
    description: 'Messages wait in <queue>-poison (GET /api/queues lists them). Fix the cause, then POST /api/queues/<queue>/replay.'
    severity: 2
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'AppMetrics | where Name == "nms.queue.poison_messages" | extend Queue = tostring(Properties["queue"]) | summarize PoisonMessages = max(Max) by Queue'
          metricMeasureColumn: 'PoisonMessages'
          dimensions: [
            {
              name: 'Queue'
              operator: 'Include'
              values: ['*']
            }
          ]
          timeAggregation: 'Maximum'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: actions
    }
  }
}

// nms.polling.poll_lag: poll start minus due time, per device (seconds), averaged; and nms.polling.oldest_due_lag, the
// oldest device still due after a scheduler tick, which still grows when nothing is polled at all (no poll_lag then).
resource pollLagAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-${namePrefix}-poll-lag'
  location: location
  tags: tags
  properties: {
    displayName: 'NMS: poll lag'
    description: 'Devices are polled later than due on average over 5 minutes: scheduler backlog, a slow dependency, or too few instances.'
    severity: 3
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'AppMetrics | where Name in ("nms.polling.poll_lag", "nms.polling.oldest_due_lag") | summarize PollLag = sum(iff(Name == "nms.polling.poll_lag", Sum, 0.0)) / max_of(sum(iff(Name == "nms.polling.poll_lag", ItemCount, 0)), 1), Backlog = max(iff(Name == "nms.polling.oldest_due_lag", Max, 0.0)) | extend LagSeconds = max_of(PollLag, Backlog)'
          metricMeasureColumn: 'LagSeconds'
          timeAggregation: 'Maximum'
          operator: 'GreaterThan'
          threshold: pollLagThresholdSeconds
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: actions
    }
  }
}
