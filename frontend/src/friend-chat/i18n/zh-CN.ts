import type en from './en';

// 聊天模块的简体中文文本；结构必须与 en.ts 一致（由类型检查保证）。
const zhCN: typeof en = {
  chat: {
    online: '在线',
    offline: '离线',
    lastSeen: '{time}在线',
    typing: '正在输入…',
    placeholder: '输入消息…',
    send: '发送',
    minimize: '最小化',
    restore: '打开聊天',
    close: '关闭',
    retry: '重试',
    sending: '发送中',
    sent: '已发送',
    read: '已读',
    failed: '发送失败',
    newMessages: '新消息',
    empty: '还没有消息，和 {name} 打个招呼吧！',
    historyStart: '这是你们对话的开始。',
    loadFailed: '消息加载失败。',
    tryAgain: '重试',
    recent: '消息',
    noConversations: '暂无会话，可以从好友列表发起聊天。',
    you: '我：',
    open: '聊天',
    errors: {
      NOT_FRIENDS: '只能给好友发消息。',
      RATE_LIMITED: '发送太快了，请稍后再试。',
      TIMEOUT: '服务器没有响应。',
      CLOSED: '连接已关闭。',
      VALIDATION: '这条消息无法发送。',
      other: '发送失败。',
    },
  },
  nav: { messages: '消息', notifications: '通知' },
  conn: {
    reconnecting: '连接已断开，正在重连…',
    tokenExpired: '登录已过期，正在重新连接…',
    tooManySockets: '聊天已在太多标签页中打开，此标签页已断开连接。',
    reconnectHere: '在此重新连接',
  },
  notify: {
    newMessage: '新消息',
    someone: '有人',
    systemTitle: '好友聊天',
  },
  notifications: {
    markRead: '标为已读',
    empty: '没有新的通知。',
    loadMore: '加载更多',
    sayHello: '打个招呼',
  },
  system: {
    follow: '{user} 关注了你。',
    friend: '你和 {user} 已成为好友。',
    purchase: '{user} 以 {price} 金币购买了你的作品 {work}。',
    task: '任务完成：{task}，获得 {reward} 金币。',
    achievement: '解锁成就：{achievement}',
    fallback: '{text}',
  },
  time: {
    justNow: '刚刚',
    minutesAgo: '{n} 分钟前',
    hoursAgo: '{n} 小时前',
    daysAgo: '{n} 天前',
    today: '今天',
    yesterday: '昨天',
  },
};

export default zhCN;
