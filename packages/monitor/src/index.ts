// Recording

export type { ChartData, ChartDataOptions, LossSeries, NormSeries, RunChartData, RunRecords, SpikeRule } from './buildChartData.js';
export { buildChartData } from './buildChartData.js';
export type { CliIo } from './cli.js';
export { runCli } from './cli.js';
export type { TruncatedLine } from './JsonlParser.js';
export { JsonlParser } from './JsonlParser.js';
export type { LayerHealth, LayerSeries } from './LayerTracker.js';
// Errors
export { MonitorError } from './MonitorError.js';
export type { NonFiniteCounts } from './NonFiniteCounts.js';
export type { LoggedNumber, NonFiniteText } from './nonFinite.js';
export type { ReadJsonlOptions } from './readJsonl.js';
// Reading
export { readJsonl } from './readJsonl.js';
export type { JsonlRecorder, RecordJsonlOptions, StepEventSource, StepNote } from './recordJsonl.js';
export { recordJsonl } from './recordJsonl.js';
export type { RenderPageOptions } from './renderPage.js';
export { renderPage } from './renderPage.js';
export type { JsonValue, NoteLine, StepLine, StepRecord } from './StepRecord.js';
export type { LiveServer, ServeOptions } from './serve.js';
// Live page and CLI
export { serve } from './serve.js';
export type { Spike, SpikeInput, SpikesOptions } from './spikes.js';
// Live hooks
export { spikes } from './spikes.js';
export type { FirstNonFinite, RunSummary, SummarizeRunOptions } from './summarizeRun.js';
export { summarizeRun } from './summarizeRun.js';
export type { ReportResult, WriteReportOptions } from './writeReport.js';
// The report page
export { writeReport } from './writeReport.js';
