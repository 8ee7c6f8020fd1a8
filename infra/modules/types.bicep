// Shared types. Values of the app's tunable settings (the defaults live in main.bicep and
// match local.settings.sample.json).

@export()
@description('Queue names (flat settings: trigger attributes read them as %Setting% expressions).')
type queueNames = {
  discovery: string
  poll: string
  metrics: string
  failures: string
}

@export()
@description('NCRONTAB schedules (six fields, seconds first) of the timer functions.')
type schedules = {
  scheduler: string
  maintenance: string
  recovery: string
  compaction: string
}

@export()
@description('Tunables under Nms__*: plugins, discovery, polling, health and metrics retention.')
type tuning = {
  @minValue(1)
  pluginMaxConcurrentProcesses: int
  @minValue(1)
  pluginRunTimeoutSeconds: int
  @minValue(1)
  discoveryMaxAddressesPerRun: int
  @minValue(1)
  discoveryBatchSize: int
  @minValue(1)
  pollingBatchSize: int
  @minValue(1)
  healthWindowSeconds: int
  @minValue(1)
  healthThreshold: int
  healthRecoveryProbeEnabled: bool
  @minValue(1)
  metricsRawRetentionDays: int
  @minValue(1)
  metricsRollup5mRetentionDays: int
  @minValue(1)
  metricsRollup1hRetentionDays: int
}

@export()
@description('How the app reaches PostgreSQL.')
type database = {
  host: string
  name: string
  user: string
  @description('Route the metrics pool through the server\'s PgBouncer (port 6432).')
  metricsViaPgBouncer: bool
  @minValue(1)
  apiPoolSize: int
  @minValue(1)
  metricsPoolSize: int
}
