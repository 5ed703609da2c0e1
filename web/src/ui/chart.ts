// Candle chart with volume (TradingView lightweight-charts), interval choice,
// seeded from candles.get and updated live from md.trade.

import {
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
  createChart,
} from "lightweight-charts";
import { type Bar, INTERVALS } from "../candles.ts";
import { schedule } from "../emitter.ts";
import type { Market } from "../market.ts";
import { h, setText } from "./dom.ts";

const UP = "#22c38e";
const DOWN = "#f2495c";

/** The chart draws UTC; shift by the local offset so the axis reads local time. */
function chartTime(ms: number): UTCTimestamp {
  const offsetMin = new Date(ms).getTimezoneOffset();
  return Math.floor(ms / 1000 - offsetMin * 60) as UTCTimestamp;
}

export function chartView(market: Market): HTMLElement {
  const host = h("div", { class: "chart-host", testid: "chart-canvas" });
  const title = h("span", { class: "chart-title", testid: "chart-title" });
  const ohlc = h("span", { class: "chart-ohlc muted small", testid: "chart-ohlc" });
  const buttons = INTERVALS.map((iv) =>
    h(
      "button",
      {
        class: `seg${iv.ms === market.intervalMs ? " on" : ""}`,
        type: "button",
        testid: `chart-interval-${iv.label}`,
        onclick: () => {
          market.setInterval(iv.ms);
          for (const b of buttons) b.classList.toggle("on", b === btnFor(iv.ms));
        },
      },
      iv.label,
    ),
  );
  const btnFor = (ms: number) => buttons[INTERVALS.findIndex((iv) => iv.ms === ms)];
  const root = h(
    "section",
    { class: "panel chart", testid: "chart" },
    h("header", { class: "panel-head" }, title, ohlc, h("div", { class: "segs" }, ...buttons)),
    host,
  );

  let chart: IChartApi | null = null;
  let candles: ISeriesApi<"Candlestick"> | null = null;
  let volume: ISeriesApi<"Histogram"> | null = null;

  const ensureChart = () => {
    if (chart) return;
    chart = createChart(host, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: "transparent" },
        textColor: "#8b96a5",
        fontSize: 11,
        attributionLogo: false,
      },
      grid: { vertLines: { color: "#1a212b" }, horzLines: { color: "#1a212b" } },
      rightPriceScale: { borderColor: "#232c38" },
      timeScale: { borderColor: "#232c38", timeVisible: true, secondsVisible: true, rightOffset: 4, barSpacing: 9 },
      crosshair: { mode: CrosshairMode.Normal },
    });
    candles = chart.addSeries(CandlestickSeries, {
      upColor: UP,
      downColor: DOWN,
      borderVisible: false,
      wickUpColor: UP,
      wickDownColor: DOWN,
    });
    volume = chart.addSeries(HistogramSeries, {
      priceScaleId: "vol",
      priceFormat: { type: "volume" },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    chart.priceScale("vol").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    chart.priceScale("right").applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });
  };

  const candleOf = (b: Bar) => ({ time: chartTime(b.t), open: b.o, high: b.h, low: b.l, close: b.c });
  const volOf = (b: Bar) => ({
    time: chartTime(b.t),
    value: b.v,
    color: b.c >= b.o ? "rgba(34,195,142,0.35)" : "rgba(242,73,92,0.35)",
  });

  let priceFormatFor = "";
  const render = () => {
    const series = market.candles;
    setText(title, market.selected || "—");
    if (!series || !host.isConnected) return;
    ensureChart();
    const sym = market.selected;
    if (priceFormatFor !== sym) {
      priceFormatFor = sym;
      const tick = Number(market.symbols.get(sym)?.tick ?? "0.01");
      const precision = market.scaleOf(sym);
      candles!.applyOptions({ priceFormat: { type: "price", precision, minMove: tick } });
    }
    if (series.reset) {
      series.reset = false;
      series.takeChanged();
      candles!.setData(series.bars.map(candleOf));
      volume!.setData(series.bars.map(volOf));
    } else {
      for (const b of series.takeChanged()) {
        candles!.update(candleOf(b));
        volume!.update(volOf(b));
      }
    }
    const last = series.bars[series.bars.length - 1];
    const dp = market.scaleOf(sym);
    setText(
      ohlc,
      last
        ? `O ${last.o.toFixed(dp)}  H ${last.h.toFixed(dp)}  L ${last.l.toFixed(dp)}  C ${last.c.toFixed(dp)}  V ${last.v}`
        : "no trades yet",
    );
    root.dataset.bars = String(series.bars.length);
    root.dataset.interval = String(series.intervalMs);
  };

  market.changes.on("candles", () => schedule(render));
  market.changes.on("selected", () => schedule(render));
  schedule(render);
  return root;
}
