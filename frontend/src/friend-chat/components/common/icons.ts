// Stroke icons (Feather-style paths) as tiny functional components; sized by font-size, coloured
// by currentColor, hidden from screen readers (the button around them carries the label).
import { h, type FunctionalComponent } from 'vue';

function icon(...paths: string[]): FunctionalComponent {
  return () =>
    h(
      'svg',
      {
        viewBox: '0 0 24 24',
        width: '1em',
        height: '1em',
        fill: 'none',
        stroke: 'currentColor',
        'stroke-width': 2,
        'stroke-linecap': 'round',
        'stroke-linejoin': 'round',
        'aria-hidden': 'true',
      },
      paths.map((d) => h('path', { d })),
    );
}

const circle = (cx: number, cy: number, r: number) => `M${cx - r} ${cy}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0z`;

export const IconChat = icon('M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z');
export const IconMonitor = icon('M3 4h18v12H3z', 'M8 20h8', 'M12 16v4');
export const IconBell = icon('M18 8A6 6 0 0 0 6 8c0 7-3 9-3 9h18s-3-2-3-9', 'M13.73 21a2 2 0 0 1-3.46 0');
export const IconMinus = icon('M5 12h14');
export const IconClose = icon('M18 6 6 18', 'M6 6l12 12');
export const IconSend = icon('M22 2 11 13', 'M22 2 15 22 11 13 2 9 22 2z');
export const IconCheck = icon('M20 6 9 17l-5-5');
export const IconChecks = icon('M17 6 7 16l-4-4', 'M22 8l-8 8-1.5-1.5');
export const IconClock = icon(circle(12, 12, 9), 'M12 7v5l3 2');
export const IconAlert = icon(circle(12, 12, 10), 'M12 8v4', 'M12 16h.01');
export const IconRetry = icon('M1 4v6h6', 'M3.51 15a9 9 0 1 0 2.13-9.36L1 10');
export const IconArrowDown = icon('M12 5v14', 'M19 12l-7 7-7-7');
export const IconUserPlus = icon('M16 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2', circle(8.5, 7, 4), 'M20 8v6', 'M23 11h-6');
export const IconHeart = icon(
  'M20.84 4.61a5.5 5.5 0 0 0-7.78 0L12 5.67l-1.06-1.06a5.5 5.5 0 0 0-7.78 7.78l1.06 1.06L12 21.23l7.78-7.78 1.06-1.06a5.5 5.5 0 0 0 0-7.78z',
);
export const IconBag = icon('M6 2 3 6v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6l-3-4z', 'M3 6h18', 'M16 10a4 4 0 0 1-8 0');
export const IconTask = icon('M9 11l3 3L22 4', 'M21 12v7a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h11');
export const IconAward = icon(circle(12, 8, 7), 'M8.21 13.89 7 23l5-3 5 3-1.21-9.12');
export const IconUsers = icon('M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2', circle(9, 7, 4), 'M23 21v-2a4 4 0 0 0-3-3.87', 'M16 3.13a4 4 0 0 1 0 7.75');
export const IconMore = icon(circle(12, 5, 1), circle(12, 12, 1), circle(12, 19, 1));
export const IconBellOff = icon('M13.73 21a2 2 0 0 1-3.46 0', 'M18.63 13A17.89 17.89 0 0 1 18 8', 'M6.26 6.26A5.86 5.86 0 0 0 6 8c0 7-3 9-3 9h14', 'M18 8a6 6 0 0 0-9.33-5', 'M1 1l22 22');
export const IconLeave = icon('M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4', 'M16 17l5-5-5-5', 'M21 12H9');
export const IconSearch = icon(circle(11, 11, 8), 'M21 21l-4.35-4.35');
export const IconPlus = icon('M12 5v14', 'M5 12h14');
export const IconBack = icon('M19 12H5', 'M12 19l-7-7 7-7');
export const IconPaperclip = icon('M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48');
export const IconMic = icon('M12 1a3 3 0 0 0-3 3v8a3 3 0 0 0 6 0V4a3 3 0 0 0-3-3z', 'M19 10v2a7 7 0 0 1-14 0v-2', 'M12 19v4', 'M8 23h8');
export const IconMapPin = icon('M21 10c0 7-9 13-9 13s-9-6-9-13a9 9 0 0 1 18 0z', circle(12, 10, 3));
export const IconFile = icon('M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z', 'M14 2v6h6');
export const IconDownload = icon('M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4', 'M7 10l5 5 5-5', 'M12 15V3');
export const IconPlay = icon('M6 3l14 9-14 9V3z');
export const IconPause = icon('M6 4h4v16H6z', 'M14 4h4v16h-4z');
export const IconStop = icon('M6 6h12v12H6z');
export const IconImageOff = icon('M3 3l18 18', 'M21 15V5a2 2 0 0 0-2-2H9', 'M3 7v12a2 2 0 0 0 2 2h12', 'M8.5 13.5 5 17h9');
export const IconReply = icon('M9 17 4 12l5-5', 'M20 18v-2a4 4 0 0 0-4-4H4');
export const IconEdit = icon('M12 20h9', 'M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z');
export const IconSmile = icon(circle(12, 12, 10), 'M8 14s1.5 2 4 2 4-2 4-2', 'M9 9h.01', 'M15 9h.01');
