console.log("proto check: not yet");
