// naive-ui types `input-props` as the element's attributes; allow the test hook on them too.
import '@vue/runtime-dom';

declare module '@vue/runtime-dom' {
  interface HTMLAttributes {
    'data-testid'?: string;
  }
}
