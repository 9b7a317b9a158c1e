// The chat's own look for naive-ui; a host can override any of it with the plugin's themeOverrides.
import type { GlobalThemeOverrides } from 'naive-ui';

export const chatTheme: GlobalThemeOverrides = {
  common: {
    primaryColor: '#4f6ef7',
    primaryColorHover: '#6b84f8',
    primaryColorPressed: '#3d5be0',
    primaryColorSuppl: '#6b84f8',
    borderRadius: '8px',
    fontFamily:
      "-apple-system, BlinkMacSystemFont, 'Segoe UI', 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', Roboto, 'Helvetica Neue', Arial, sans-serif",
  },
  Input: { borderRadius: '10px' },
  Button: { borderRadiusMedium: '10px' },
};
