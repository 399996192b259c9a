console.log("kiln: under construction");
