// Recording
export { recordJsonl } from './recordJsonl.js';
export type { JsonlRecorder, RecordJsonlOptions, StepEventSource, StepNote } from './recordJsonl.js';
export type { JsonValue, NoteLine, StepLine, StepRecord } from './StepRecord.js';
export type { LoggedNumber, NonFiniteText } from './nonFinite.js';

// Reading
export { readJsonl } from './readJsonl.js';
export type { ReadJsonlOptions } from './readJsonl.js';
export { JsonlParser } from './JsonlParser.js';
export type { TruncatedLine } from './JsonlParser.js';
export { summarizeRun } from './summarizeRun.js';
export type { FirstNonFinite, RunSummary, SummarizeRunOptions } from './summarizeRun.js';
export type { NonFiniteCounts } from './NonFiniteCounts.js';
export type { LayerHealth, LayerSeries } from './LayerTracker.js';

// Live hooks
export { spikes } from './spikes.js';
export type { Spike, SpikeInput, SpikesOptions } from './spikes.js';

// The report page
export { writeReport } from './writeReport.js';
export type { ReportResult, WriteReportOptions } from './writeReport.js';
export { buildChartData } from './buildChartData.js';
export type { ChartData, ChartDataOptions, LossSeries, NormSeries, RunChartData, RunRecords, SpikeRule } from './buildChartData.js';
export { renderPage } from './renderPage.js';
export type { RenderPageOptions } from './renderPage.js';

// Live page and CLI
export { serve } from './serve.js';
export type { LiveServer, ServeOptions } from './serve.js';
export { runCli } from './cli.js';
export type { CliIo } from './cli.js';

// Errors
export { MonitorError } from './MonitorError.js';
