// The page's wiring: the host's session, Pinia, then friend-chat's plugin and stylesheet.
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import { createFriendChatPlugin } from 'friend-chat/vue';
import 'friend-chat/vue/style.css';
import App from './App.vue';
import { session } from './session.js';

const app = createApp(App);
app.use(createPinia()); // first: friend-chat keeps its state in the host's Pinia
app.use(
  createFriendChatPlugin({
    apiBase: '/api',
    socketUrl: `${location.origin}/chat`, // the namespace app.js attached friend-chat to
    getToken: () => session.token,
    currentUser: () => session.user,
    renderNotification: (m) => (m.messageType === 'SYSTEM_LIKE' ? `♥ ${m.content}` : null),
    onUnauthorized: () => session.logout(),
  }),
);
app.mount('#app');
